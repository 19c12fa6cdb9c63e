"""Reads: which symbol file belongs to a coredump."""

from __future__ import annotations

from dre.symbols.models import SymbolFile


def symbol_file_for(
    project_id: int,
    *,
    build_id: str | None,
    software_version_id: int | None,
    lock: bool = False,
    build_id_prefix: str | None = None,
):
    """The symbol file for a crash: by build id, else by software type and version.

    A coredump that carries a build id only ever matches that build id: a
    different build of the "same" version would give wrong lines, which is
    worse than waiting for the right ELF.
    """
    files = SymbolFile.objects.filter(project_id=project_id).exclude(state=SymbolFile.State.FAILED)
    if lock:
        files = files.select_for_update()
    if build_id:
        return files.filter(build_id=build_id).first()
    if build_id_prefix:
        # Events carry only the first 5-20 bytes of the build id (memfault-formats.md 1.8).
        return files.filter(build_id__startswith=build_id_prefix).order_by("-created").first()
    if software_version_id:
        return files.filter(software_version_id=software_version_id).order_by("-created").first()
    return None

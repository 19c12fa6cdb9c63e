"""Writes for symbol files: accept an upload, then index it in a worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dre import blobs
from dre.accounts.models import Project
from dre.fleet.services import software_version_get
from dre.symbols.models import SymbolFile
from symbolicator import ElfError, ElfImage, SymbolicatorError, build_index

log = logging.getLogger(__name__)


class SymbolFileRejected(Exception):
    """The upload is not a symbol file dre can use; the message says why."""


class SymbolFileDuplicate(Exception):
    def __init__(self, existing: SymbolFile):
        super().__init__(f"a symbol file with build id {existing.build_id} is already uploaded")
        self.existing = existing


def symbol_file_ingest(
    project: Project,
    stored: blobs.StoredBlob,
    *,
    name: str,
    software_type: str | None = None,
    software_version: str | None = None,
) -> SymbolFile:
    """Record an uploaded ELF and queue its indexing once the transaction commits.

    Only the ELF header and notes are read here; DWARF waits for the worker.
    """
    build_id = _read_build_id(stored)
    if not build_id and not (software_type and software_version):
        raise SymbolFileRejected(
            "the ELF has no GNU build id; give its software type and version instead"
        )
    version = software_version_get(project, software_type, software_version)
    try:
        with transaction.atomic():
            symbol_file = SymbolFile.objects.create(
                project=project,
                software_version=version,
                build_id=build_id,
                name=name[:255] or "symbols.elf",
                blob=stored.name,
                size=stored.size,
                md5=stored.md5,
            )
    except IntegrityError:
        raise SymbolFileDuplicate(
            SymbolFile.objects.get(project=project, build_id=build_id)
        ) from None
    from dre.symbols.tasks import index_symbol_file

    index_symbol_file.delay_on_commit(symbol_file.pk)
    return symbol_file


def _read_build_id(stored: blobs.StoredBlob) -> str:
    with blobs.blob_open(stored.name) as handle:
        try:
            elf = ElfImage(handle)
            if not elf.is_arm:
                raise SymbolFileRejected(f"the ELF is for {elf.machine}; dre reads ARM firmware")
            if not elf.has_dwarf:
                raise SymbolFileRejected("the ELF has no .debug_info; build it with -g")
            build_id = elf.build_id
        except ElfError as exc:
            raise SymbolFileRejected(str(exc)) from exc
    return build_id.hex() if build_id else ""


def _claim(symbol_file_id: int) -> bool:
    """Move a symbol file to INDEXING; False when another worker has it or it is done."""
    claimed = SymbolFile.objects.filter(
        pk=symbol_file_id, state__in=[SymbolFile.State.RECEIVED, SymbolFile.State.INDEXING]
    ).update(state=SymbolFile.State.INDEXING, state_changed=timezone.now())
    return claimed == 1


def symbol_file_index(symbol_file_id: int) -> None:
    """Build the symbol index, store it, then release coredumps that waited for it."""
    if not _claim(symbol_file_id):
        return
    symbol_file = SymbolFile.objects.get(pk=symbol_file_id)
    try:
        index = build_index(blobs.blob_read(symbol_file.blob))
    except SymbolicatorError as exc:
        _fail(symbol_file, f"indexing failed: {exc}")
        return
    stored = blobs.blob_save_bytes(
        f"indexes/{symbol_file.project_id}/{symbol_file.pk}.idx", index.to_bytes()
    )
    with transaction.atomic():
        SymbolFile.objects.filter(pk=symbol_file.pk).update(
            index_blob=stored.name, state=SymbolFile.State.READY, state_changed=timezone.now()
        )
        from dre.crashes.services import coredumps_release_for

        coredumps_release_for(symbol_file)
        from dre.health.resolution import heartbeats_release_for

        heartbeats_release_for(symbol_file)
    log.info("indexed symbol file %s (%s bytes)", symbol_file.pk, stored.size)


def _fail(symbol_file: SymbolFile, error: str) -> None:
    log.warning("symbol file %s: %s", symbol_file.pk, error)
    SymbolFile.objects.filter(pk=symbol_file.pk).update(
        state=SymbolFile.State.FAILED, error=error, state_changed=timezone.now()
    )


def symbol_files_requeue_stuck(now=None) -> int:
    """Re-queue symbol files whose indexing never finished (a worker died)."""
    from dre.symbols.tasks import index_symbol_file

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.STUCK_AFTER_SECONDS + 1900)
    stuck = SymbolFile.objects.filter(
        state__in=[SymbolFile.State.RECEIVED, SymbolFile.State.INDEXING], state_changed__lt=cutoff
    )
    ids = list(stuck.values_list("pk", flat=True))
    for symbol_file_id in ids:
        index_symbol_file.delay_on_commit(symbol_file_id)
    return len(ids)

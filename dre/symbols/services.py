"""Writes for symbol files: accept an upload, then index it in a worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dre import blobs, leases
from dre.accounts.models import Project
from dre.celery import TRANSIENT_ERRORS
from dre.fleet.services import software_version_get
from dre.symbols.models import SymbolFile
from symbolicator import ElfError, ElfImage, SymbolicatorError, SymbolIndex, build_index

log = logging.getLogger(__name__)
State = SymbolFile.State


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
                queued=timezone.now(),  # published right after commit; see _publish
            )
    except IntegrityError:
        raise SymbolFileDuplicate(
            SymbolFile.objects.get(project=project, build_id=build_id)
        ) from None
    _queue_index(symbol_file.pk)
    return symbol_file


def _queue_index(symbol_file_id: int) -> None:
    transaction.on_commit(lambda: _publish(symbol_file_id))


def _publish(symbol_file_id: int, mark: bool = False) -> bool:
    """Hand indexing to the broker; a broker that is down loses nothing.

    The outbox rule of dre/leases.py: the write that made the row wait set `queued`;
    a failed publish clears it and the sweeper publishes later, so an upload never
    fails after its bytes are stored. `mark`: the sweeper's publish, which sets it.
    """
    from dre.symbols.tasks import index_symbol_file

    try:
        index_symbol_file.delay(symbol_file_id)
    except Exception as exc:  # kombu and redis-py raise several kinds; all mean "not queued"
        log.warning(
            "could not queue indexing of symbol file %s (%s); the sweeper will", symbol_file_id, exc
        )
        _mark_queued(symbol_file_id, None)
        return False
    if mark:
        _mark_queued(symbol_file_id, timezone.now())
    return True


def _mark_queued(symbol_file_id: int, queued) -> None:
    try:
        SymbolFile.objects.filter(pk=symbol_file_id, state=State.RECEIVED).update(queued=queued)
    except TRANSIENT_ERRORS:  # the row stays as it is; a later sweep sees it
        log.warning("symbol file %s: could not record its outbox state", symbol_file_id)


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


def symbol_file_index(symbol_file_id: int) -> None:
    """Build the symbol index, store it, then release coredumps that waited for it."""
    token = leases.claim(SymbolFile, symbol_file_id, [State.RECEIVED], State.INDEXING)
    if token is None:
        return
    symbol_file = SymbolFile.objects.get(pk=symbol_file_id)
    try:
        with leases.renewing(SymbolFile, {symbol_file_id: token}, State.INDEXING):
            _index(symbol_file)
    except TRANSIENT_ERRORS:
        leases.hand_back(_held(symbol_file), f"symbol file {symbol_file.pk}")
        raise  # the task retries with backoff
    except Exception as exc:
        log.exception("symbol file %s: attempt %s failed", symbol_file_id, token)
        leases.attempt_failed(SymbolFile, symbol_file_id, token, State.INDEXING, exc, _queue_index)


def _index_store(symbol_file: SymbolFile, index: SymbolIndex) -> blobs.StoredBlob:
    return blobs.blob_save_bytes(
        f"indexes/{symbol_file.project_id}/{symbol_file.pk}.idx",
        index.to_bytes(elf_sections=False),
    )


def symbol_index_rebuild(symbol_file: SymbolFile) -> SymbolIndex:
    """Build a ready symbol file's index again from its ELF and store it.

    An index stored by an older dre (another FORMAT_VERSION) names functions or keeps its
    sections differently; after an upgrade it is rebuilt the first time a crash needs it.
    """
    index = build_index(blobs.blob_read(symbol_file.blob))
    stored = _index_store(symbol_file, index)
    SymbolFile.objects.filter(pk=symbol_file.pk).update(index_blob=stored.name)
    symbol_file.index_blob = stored.name
    log.info("symbol file %s: index rebuilt in the current format", symbol_file.pk)
    return index


def _index(symbol_file: SymbolFile) -> None:
    try:
        index = build_index(blobs.blob_read(symbol_file.blob))
    except SymbolicatorError as exc:
        _fail(symbol_file, f"indexing failed: {exc}")
        return
    # The ELF stays in storage next to its index, which reads its DWARF and
    # read-only sections from it instead of keeping a second copy of them.
    stored = _index_store(symbol_file, index)
    with transaction.atomic():
        moved = _held(symbol_file).update(
            index_blob=stored.name,
            state=State.READY,
            state_changed=timezone.now(),
            error="",
            traceback="",
            lease_expires=None,
        )
        if not moved:
            log.warning("symbol file %s: lease lost, another worker has it", symbol_file.pk)
            return
        from dre.crashes.services import coredumps_release_for

        coredumps_release_for(symbol_file)
        from dre.health.resolution import heartbeats_release_for

        heartbeats_release_for(symbol_file)
        from dre.diagnostics.resolution import diagnostics_release_for

        diagnostics_release_for(symbol_file)
    log.info("indexed symbol file %s (%s bytes)", symbol_file.pk, stored.size)


def _held(symbol_file: SymbolFile):
    return leases.held(SymbolFile, symbol_file.pk, symbol_file.attempts, State.INDEXING)


def _fail(symbol_file: SymbolFile, error: str) -> None:
    log.warning("symbol file %s: %s", symbol_file.pk, error)
    _held(symbol_file).update(
        state=State.FAILED, error=error, state_changed=timezone.now(), lease_expires=None
    )


def symbol_file_reprocess(symbol_file: SymbolFile) -> None:
    """Index a failed symbol file again, after the fix is deployed; the coredumps
    that waited for it are released when it is ready."""
    leases.failed_restart(symbol_file, "symbol file")
    _queue_index(symbol_file.pk)


def symbol_files_requeue_stuck(now=None) -> int:
    """The sweeper for symbol files, as coredumps_requeue_stuck is for coredumps:
    an expired lease goes back to RECEIVED (or FAILED after the last attempt); a
    message that never reached the broker, or was lost by it, is published."""
    now = now or timezone.now()
    recovered = leases.expired_leases_recover(SymbolFile, State.INDEXING, _queue_index, now)
    return recovered + _publish_unqueued(now)


def _publish_unqueued(now) -> int:
    waiting = SymbolFile.objects.filter(
        Q(queued__isnull=True, state_changed__lt=now - timedelta(seconds=5))
        | Q(queued__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)),
        state=State.RECEIVED,
    )
    count = 0
    for symbol_file_id in waiting.values_list("pk", flat=True)[:1000]:
        if not _publish(symbol_file_id, mark=True):
            break  # the broker is down again: the next sweep goes on
        count += 1
    return count

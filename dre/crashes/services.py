"""The crash pipeline: ingest -> symbolicate -> group.

Each stage is a service called by a thin Celery task. A stage first claims
its coredumps with a conditional UPDATE on `state` and goes on only with the
rows it changed, so a re-delivered or duplicated task never does the work
twice, and it starts the next stage only once its own transaction commits.
Ingest, the symbols' release of waiting crashes, reprocessing and the sweeper
are here; the stages are dre/crashes/symbolicate.py and dre/crashes/group.py,
which work a batch of coredumps at a time (a single one is a batch of one).
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from datetime import timedelta

import lz4.frame
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

import symbolicator
from dre import blobs, leases
from dre.accounts.models import Project
from dre.batching import BatchPublisher, GroupCommit
from dre.celery import TRANSIENT_ERRORS
from dre.crashes import outbox
from dre.crashes.group import trace_group, traces_group
from dre.crashes.models import Coredump
from dre.crashes.symbolicate import (
    CoredumpUnreadable,
    LeaseLost,
    coredump_bytes,
    coredump_symbolicate,
    coredumps_symbolicate,
)
from dre.crashes.titles import trace_title
from dre.fleet.models import Device, SoftwareVersion
from dre.sql import ArrayInsert
from dre.symbols.models import SymbolFile

# The stages live in their own modules; these names are the pipeline's public API.
__all__ = [
    "CoredumpUnreadable",
    "LeaseLost",
    "coredump_bytes",
    "coredump_symbolicate",
    "coredumps_symbolicate",
    "trace_group",
    "trace_title",
    "traces_group",
]

log = logging.getLogger(__name__)

State = Coredump.State
# Rows one sweep publishes at most; the sweep task's time limit bounds the rest.
SWEEP_BATCH = 1000
# Coredumps per symbolicate_batch message: a group commit of hundreds is split so
# that one task stays well within its time limit and several workers share a group.
SYMBOLICATE_BATCH = 50
# Coredumps up to this size that name no device are stored in their row by group
# commit (most MCU coredumps are 8 to 100 kB); larger ones, or ones to dedup, as blobs.
# With MAX_GROUP rows per statement this bounds a group's INSERT to 25 MB.
INLINE_COREDUMP_BYTES = 256 * 1024


class NotACoredump(Exception):
    """The bytes are no coredump format dre knows; nothing was stored."""


# -- ingest ------------------------------------------------------------------


def coredump_create(
    project: Project,
    stored: blobs.StoredBlob,
    *,
    source: str,
    device: Device | None = None,
    software_version: SoftwareVersion | None = None,
    **fields,
) -> Coredump:
    """Record a stored coredump blob and queue its processing after commit.

    `software_version` comes from the uploader, for formats that carry neither a
    build id nor versions (Zephyr's); what the coredump says wins over it.
    """
    coredump = Coredump.objects.create(
        project=project,
        device=device,
        software_version=software_version,
        blob=stored.name,
        size=stored.size,
        md5=stored.md5,
        source=source,
        queued=timezone.now(),  # published right after commit; see _publish
        **fields,
    )
    _queue_symbolicate(coredump.pk)
    return coredump


def coredump_ingest_bytes(project: Project, data: bytes, **kwargs) -> Coredump:
    """coredump_receive, for callers that answer with the row (the REST API)."""
    return Coredump.objects.get(pk=coredump_receive(project, data, **kwargs))


def coredump_receive(
    project: Project,
    data: bytes,
    *,
    source: str,
    device: Device | None = None,
    software_version: SoftwareVersion | None = None,
    sent: bytes | None = None,
) -> int:
    """Store coredump bytes that arrived in a request body or a chunk message; return
    the stored coredump's id (a device's answer names no more).

    `sent` is the coredump as the device sent it, RLE-encoded (memfault-formats.md
    2.1), when `data` is its expansion: the compact form is what gets stored, and
    the worker expands it again. The same stored bytes from the same device within
    DEDUP_WINDOW_SECONDS are the same crash re-sent after a failed answer: the
    coredump already recorded is returned instead of a second one.
    """
    format_name = symbolicator.detect_format(data)
    if format_name is None:
        raise NotACoredump(
            f"not a coredump format dre knows (first bytes: {data[:8].hex(' ') or 'none'})"
        )
    stored_bytes = data if sent is None else sent
    content_hash = _hexdigest(hashlib.sha256(), stored_bytes)
    with _dedup_scope(device):
        if duplicate := _resent(project, device, content_hash):
            log.info("coredump %s re-sent; not stored again", duplicate.pk)
            return duplicate.pk
        fields = {
            "format": format_name,
            "content_hash": content_hash,
            "encoding": Coredump.Encoding.RAW if sent is None else Coredump.Encoding.RLE,
            "expanded_size": len(data),
        }
        if device is None and len(stored_bytes) <= INLINE_COREDUMP_BYTES:
            # Nothing to dedup by: the row, bytes included, joins this process's group
            # commit (one INSERT and one fsync for many requests, no file per request).
            return _received.submit(
                _received_row(project, stored_bytes, source, software_version, fields)
            )
        stored = blobs.blob_save_bytes(
            blobs.blob_name("coredumps", project.pk, ".core"), stored_bytes
        )
        return coredump_create(
            project, stored, source=source, device=device, software_version=software_version,
            **fields,
        ).pk  # fmt: skip


def _received_row(project, stored_bytes: bytes, source, software_version, fields) -> tuple:
    """A received coredump's row, in _received_insert's columns.

    Raw bytes go in compressed (LZ4 frame, a few microseconds for 8 kB): PostgreSQL
    would compress them too, but only after receiving, copying and unnesting them
    whole, and the request's thread would send them whole. Sending an eighth of the
    bytes cost an upload a tenth less CPU, web and database together (bench/results,
    "Coredumps compressed before the INSERT, arrays encoded once, device paths first").
    Size, hashes and dedup stay those of the bytes as sent."""
    raw, encoding = stored_bytes, fields["encoding"]
    if encoding == Coredump.Encoding.RAW:
        raw, encoding = lz4.frame.compress(stored_bytes), Coredump.Encoding.LZ4
    return (
        project.pk,
        software_version.pk if software_version is not None else None,
        raw,
        len(stored_bytes),
        _hexdigest(hashlib.md5(usedforsecurity=False), stored_bytes),
        source,
        fields["format"],
        fields["content_hash"],
        encoding,
        fields["expanded_size"],
    )


# hashlib lets go of the GIL to hash 2,048 bytes or more. Under gunicorn's threads another
# request takes it, and getting it back costs this thread a context switch or two, which
# on a VM is more CPU than hashing a coredump of tens of kB: an upload fed its two hashes
# in slices just under that size took a twentieth less CPU in the web process (bench/results,
# "Device requests without the site's middleware"). Larger bytes are hashed in one go:
# there letting other threads run while hashing is worth the switch.
_GIL_HELD_SLICE = 2047
_GIL_HELD_UP_TO = 64 * 1024


def _hexdigest(digest, data: bytes) -> str:
    if len(data) > _GIL_HELD_UP_TO:
        digest.update(data)
    else:
        view = memoryview(data)
        for start in range(0, len(view), _GIL_HELD_SLICE):
            digest.update(view[start : start + _GIL_HELD_SLICE])
    return digest.hexdigest()


# The columns a received coredump's row gives; `queued` is set by the statement
# (published once its group committed; see _publish_ids), the rest are defaults.
_received_insert = ArrayInsert(
    Coredump,
    [
        "project_id", "software_version_id", "raw", "size", "md5", "source", "format",
        "content_hash", "encoding", "expanded_size",
    ],
    queued=timezone.now,
)  # fmt: skip


def _publish_ids(ids: list[int]) -> None:
    """One symbolicate_batch message per SYMBOLICATE_BATCH coredumps instead of one per
    request. A message the broker refuses leaves its rows unqueued (`queued` None)
    for the sweeper, as _publish does for one."""
    from dre.crashes.tasks import symbolicate_batch

    for start in range(0, len(ids), SYMBOLICATE_BATCH):
        part = ids[start : start + SYMBOLICATE_BATCH]
        try:
            symbolicate_batch.delay(part)
        except Exception as exc:  # kombu and redis-py raise several kinds; all mean "not queued"
            log.warning("could not queue coredumps %s (%s); the sweeper will", part, exc)
            _mark_queued_many(part)


def _mark_queued_many(coredump_ids: list[int]) -> None:
    try:
        Coredump.objects.filter(pk__in=coredump_ids, state=State.RECEIVED).update(queued=None)
    except TRANSIENT_ERRORS:  # the rows keep `queued`: the sweeper publishes them later
        log.warning("coredumps %s: could not record their outbox state", coredump_ids)


# Received coredumps that name no device are written by group commit and published by
# the process's publisher thread in batches (dre/batching.py).
_publisher = BatchPublisher(publish=_publish_ids, max_batch=SYMBOLICATE_BATCH)
_received = GroupCommit(write=_received_insert, publisher=_publisher)


def _dedup_scope(device: Device | None):
    """The transaction that holds the dedup lock until the coredump is committed.

    Without a device there is no lock to hold: the INSERT commits by itself, one
    round trip instead of three. Inside a caller's transaction (chunks) no
    savepoint: an error here fails the caller's transaction anyway.
    """
    if device is None:
        return nullcontext()
    return transaction.atomic(savepoint=False)


def _resent(project: Project, device: Device | None, content_hash: str) -> Coredump | None:
    # Without a device (an upload that names none) the sender is unknown until the
    # worker reads the coredump, so there is nothing to tell a retry by.
    if device is None:
        return None
    _lock_for_dedup(project, device, content_hash)
    return coredump_recent_duplicate(project, device, content_hash)


def _lock_for_dedup(project: Project, device: Device, content_hash: str) -> None:
    """Serialize ingests of the same bytes from the same device until commit.

    A transaction-scoped advisory lock on PostgreSQL, so two concurrent retries
    cannot both see "not stored yet". SQLite (development only) runs one write
    transaction at a time.
    """
    if connection.vendor != "postgresql":
        return
    key = hashlib.sha256(f"{project.pk}:{device.pk}:{content_hash}".encode())
    lock_id = int.from_bytes(key.digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def coredump_recent_duplicate(
    project: Project, device: Device, content_hash: str
) -> Coredump | None:
    since = timezone.now() - timedelta(seconds=settings.DEDUP_WINDOW_SECONDS)
    return (
        Coredump.objects.filter(
            project=project, device=device, content_hash=content_hash, received__gte=since
        )
        .order_by("pk")
        .first()
    )


def _queue_symbolicate(coredump_id: int) -> None:
    """Publish after commit (dre/crashes/outbox.py). The write that made the row
    RECEIVED set `queued`."""
    outbox.queue_symbolicate(coredump_id)


# -- symbols arrive ------------------------------------------------------------


def coredumps_release_for(symbol_file: SymbolFile) -> int:
    """Re-queue coredumps that waited for this symbol file. Runs in its transaction."""
    waiting = Coredump.objects.filter(project=symbol_file.project_id, state=State.AWAITING_SYMBOLS)
    if symbol_file.build_id:
        waiting = waiting.filter(build_id=symbol_file.build_id)
    elif symbol_file.software_version_id:
        waiting = waiting.filter(build_id="", software_version=symbol_file.software_version_id)
    else:
        return 0
    ids = list(waiting.values_list("pk", flat=True))
    # Waiting for symbols was no failed attempt: the count starts again.
    Coredump.objects.filter(pk__in=ids, state=State.AWAITING_SYMBOLS).update(
        state=State.RECEIVED, state_changed=timezone.now(), attempts=0, queued=timezone.now()
    )
    for coredump_id in ids:
        _queue_symbolicate(coredump_id)
    return len(ids)


# -- reprocess -----------------------------------------------------------------


def coredump_reprocess(coredump: Coredump) -> None:
    """Process a failed coredump again from its kept bytes, after the fix is deployed."""
    leases.failed_restart(coredump, "coredump")
    _queue_symbolicate(coredump.pk)


# -- sweeper -------------------------------------------------------------------


def coredumps_requeue_stuck(now=None) -> int:
    """Bring back coredumps whose work was lost; return how many were touched.

    1. PROCESSING with its lease run out: the worker died (kill -9, OOM, hard time
       limit). Back to RECEIVED, or FAILED once MAX_PROCESSING_ATTEMPTS are used.
    2. RECEIVED or SYMBOLICATED whose message never reached the broker (`queued` is
       None a few seconds after the row changed), or reached it more than
       STUCK_AFTER_SECONDS ago without a worker starting it: published (again).
    Running a stage twice is safe: each claims its row first.
    """
    now = now or timezone.now()
    recovered = leases.expired_leases_recover(Coredump, State.PROCESSING, _queue_symbolicate, now)
    return recovered + _publish_unqueued(now)


def _publish_unqueued(now) -> int:
    grace = now - timedelta(seconds=5)
    lost = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    waiting = Coredump.objects.filter(
        Q(queued__isnull=True, state_changed__lt=grace) | Q(queued__lt=lost),
        state__in=[State.RECEIVED, State.SYMBOLICATED],
    ).order_by("state_changed")[:SWEEP_BATCH]
    count = 0
    for coredump_id, state in waiting.values_list("pk", "state"):
        publish = outbox.publish_symbolicate if state == State.RECEIVED else outbox.publish_group
        if not publish(coredump_id, mark=True):
            break  # the broker is down again: the next sweep goes on
        count += 1
    return count

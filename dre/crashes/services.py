"""The crash pipeline: ingest -> symbolicate -> group.

Each stage is a service called by a thin Celery task. A stage first claims
its coredump with a conditional UPDATE on `state` and goes on only if exactly
one row changed, so a re-delivered or duplicated task never does the work
twice, and it queues the next stage only once its own transaction commits.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone

import symbolicator
from dre import blobs, leases
from dre.accounts.models import Project
from dre.batching import GroupCommit
from dre.celery import TRANSIENT_ERRORS
from dre.crashes import grouping
from dre.crashes.announce import activity_announce, occurrence_announce
from dre.crashes.models import (
    Coredump,
    Issue,
    IssueActivity,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    IssueHardware,
    IssueHour,
    IssueVersion,
    Trace,
)
from dre.crashes.selectors import grouping_rules_saved
from dre.crashes.workflow import issue_trace_arrived
from dre.fleet.models import Device, SoftwareVersion
from dre.fleet.services import (
    device_seen,
    device_versions_seen,
    hardware_version_get,
    software_version_get,
)
from dre.ingest.wire import RleError, rle_decode
from dre.sql import insert_many
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.selectors import symbol_file_for

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


def coredump_ingest_bytes(
    project: Project,
    data: bytes,
    *,
    source: str,
    device: Device | None = None,
    software_version: SoftwareVersion | None = None,
    sent: bytes | None = None,
) -> Coredump:
    """Store coredump bytes that arrived in a request body or a chunk message.

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
    content_hash = hashlib.sha256(stored_bytes).hexdigest()
    with _dedup_scope(device):
        if duplicate := _resent(project, device, content_hash):
            log.info("coredump %s re-sent; not stored again", duplicate.pk)
            return duplicate
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
        )  # fmt: skip


def _received_row(project, stored_bytes: bytes, source, software_version, fields) -> Coredump:
    return Coredump(
        project=project,
        software_version=software_version,
        raw=stored_bytes,
        size=len(stored_bytes),
        md5=hashlib.md5(stored_bytes, usedforsecurity=False).hexdigest(),
        source=source,
        queued=timezone.now(),  # published once its group committed; see _publish_batch
        **fields,
    )


def _coredumps_insert(coredumps: list[Coredump]) -> list[Coredump]:
    """One multi-row INSERT ... RETURNING id for a group of received coredumps."""
    return insert_many(coredumps)


def _publish_batch(coredumps: list[Coredump]) -> None:
    """Queue a committed group: one symbolicate_batch message per SYMBOLICATE_BATCH
    coredumps instead of one per request. A message the broker refuses leaves its
    rows unqueued (`queued` None) for the sweeper, as _publish does for one."""
    from dre.crashes.tasks import symbolicate_batch

    ids = [coredump.pk for coredump in coredumps]
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


# Received coredumps that name no device are written by group commit (dre/batching.py).
_received = GroupCommit(write=_coredumps_insert, after=_publish_batch)


def coredumps_symbolicate(coredump_ids: list[int]) -> None:
    """Several received coredumps, one after the other (symbolicate_batch's work)."""
    for coredump_id in coredump_ids:
        coredump_symbolicate(coredump_id)


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


def coredump_bytes(coredump: Coredump) -> bytes:
    """The coredump itself, expanded from the stored form within MAX_COREDUMP_BYTES."""
    data = bytes(coredump.raw) if coredump.raw is not None else blobs.blob_read(coredump.blob)
    if coredump.encoding == Coredump.Encoding.RLE:
        return rle_decode(data, max_output=settings.MAX_COREDUMP_BYTES)
    return data


def _queue_symbolicate(coredump_id: int) -> None:
    """Publish after commit. The write that made the row RECEIVED set `queued`."""
    transaction.on_commit(lambda: _publish_now(coredump_id))


def _publish(task, argument: int, coredump_id: int, waiting_for: str, mark: bool = False) -> bool:
    """Hand a task to the broker; a broker that is down loses nothing.

    The row is committed before this runs, with `queued` already set by the write
    that made it wait (one commit per upload, not two). When publishing fails,
    `queued` goes back to None and the sweeper publishes the row once the broker is
    back (an outbox). Only a process that dies between the commit and this publish
    leaves `queued` set on an unpublished row: the sweeper then publishes it
    STUCK_AFTER_SECONDS later, as it does for a broker that lost its queue.
    `mark`: the sweeper's publish of a row whose `queued` it has to set itself.
    """
    try:
        task.delay(argument)
    except Exception as exc:  # kombu and redis-py raise several kinds; all mean "not queued"
        log.warning(
            "could not queue %s for coredump %s (%s); the sweeper will", task.name, coredump_id, exc
        )
        _mark_queued(coredump_id, waiting_for, None)
        return False
    if mark:
        _mark_queued(coredump_id, waiting_for, timezone.now())
    return True


def _mark_queued(coredump_id: int, waiting_for: str, queued) -> None:
    # Only while the row still waits for this task: a worker may already have moved
    # it on, and a later stage's "not queued yet" must not be overwritten.
    try:
        Coredump.objects.filter(pk=coredump_id, state=waiting_for).update(queued=queued)
    except TRANSIENT_ERRORS:  # the row stays as it is; a later sweep sees it
        log.warning("coredump %s: could not record its outbox state", coredump_id)


# -- symbolicate -------------------------------------------------------------


class LeaseLost(Exception):
    """Another worker claimed the coredump after our lease ran out; our work is void."""


def coredump_symbolicate(coredump_id: int) -> None:
    """Parse the coredump, find its symbols and turn it into a Trace."""
    token = leases.claim(Coredump, coredump_id, [State.RECEIVED], State.PROCESSING)
    if token is None:
        return
    coredump = Coredump.objects.select_related("project", "device").get(pk=coredump_id)
    try:
        with leases.renewing(Coredump, coredump_id, token, State.PROCESSING):
            _symbolicate(coredump)
    except LeaseLost:
        log.warning("coredump %s: lease lost, another worker has it", coredump_id)
    except TRANSIENT_ERRORS:
        held = leases.held(Coredump, coredump.pk, coredump.attempts, State.PROCESSING)
        leases.hand_back(held, f"coredump {coredump.pk}")
        raise  # the task retries with backoff
    except Exception as exc:
        _attempt_failed(coredump, exc)


def _attempt_failed(coredump: Coredump, exc: Exception) -> None:
    """An unexpected error: record it; retry until MAX_PROCESSING_ATTEMPTS, then fail."""
    log.exception("coredump %s: attempt %s failed", coredump.pk, coredump.attempts)
    error, summary = leases.error_summary(exc)
    final = coredump.attempts >= settings.MAX_PROCESSING_ATTEMPTS
    with transaction.atomic():
        leases.held(Coredump, coredump.pk, coredump.attempts, State.PROCESSING).update(
            state=State.FAILED if final else State.RECEIVED,
            state_changed=timezone.now(),
            error=leases.attempts_error(coredump.attempts, error, final),
            traceback=summary,
            lease_expires=None,
            queued=None if final else timezone.now(),
        )
        if not final:
            _queue_symbolicate(coredump.pk)


def _symbolicate(coredump: Coredump) -> None:
    try:
        parsed = symbolicator.parse_coredump(coredump_bytes(coredump))
    except (symbolicator.SymbolicatorError, RleError) as exc:
        _fail(coredump, f"could not parse the coredump: {exc}")
        return
    _record_metadata(coredump, parsed)
    symbol_file = _symbol_file_or_wait(coredump)
    if symbol_file is not None:
        _symbolicate_with(coredump, parsed, symbol_file)


def _symbol_file_or_wait(coredump: Coredump) -> SymbolFile | None:
    """The READY symbol file of the coredump, else None once it waits for one."""
    wanted = {
        "build_id": coredump.build_id,
        "software_version_id": coredump.software_version_id,
    }
    # A READY file stays READY: no lock needed to use it (one SELECT, no transaction).
    symbol_file = symbol_file_for(coredump.project_id, **wanted)
    if symbol_file is not None and symbol_file.state == SymbolFile.State.READY:
        return symbol_file
    with transaction.atomic():
        # Locking the symbol file row orders us against its indexer: either
        # we see it READY, or it sees us AWAITING_SYMBOLS when it releases.
        symbol_file = symbol_file_for(coredump.project_id, **wanted, lock=True)
        if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
            _set_state(coredump, State.AWAITING_SYMBOLS)
            return None
    return symbol_file


def _record_metadata(coredump: Coredump, parsed: symbolicator.Coredump) -> None:
    project = coredump.project
    coredump.format = parsed.format
    coredump.build_id = parsed.build_id.hex() if parsed.build_id else ""
    coredump.trace_reason = parsed.trace_reason
    coredump.software_version = (
        software_version_get(project, parsed.software_type, parsed.software_version)
        or coredump.software_version
    )
    coredump.hardware_version = hardware_version_get(project, parsed.hardware_version)
    if coredump.device is None and parsed.device_serial:
        coredump.device = device_seen(project, parsed.device_serial)
    if coredump.device is not None:
        device_versions_seen(
            coredump.device,
            hardware_version=coredump.hardware_version,
            software_version=coredump.software_version,
        )
    coredump.save(
        update_fields=[
            "format",
            "build_id",
            "trace_reason",
            "software_version",
            "hardware_version",
            "device",
        ]
    )


def _symbolicate_with(coredump, parsed, symbol_file: SymbolFile) -> None:
    try:
        index = symbol_index_load(symbol_file)
        trace = symbolicator.symbolicate(parsed, index)
    except symbolicator.SymbolicatorError as exc:
        _fail(coredump, f"symbolication failed: {exc}")
        return
    data = trace.to_dict()
    with transaction.atomic():
        saved = _trace_save(coredump, data)
        moved = _held(coredump).update(
            symbol_file=symbol_file,
            state=State.SYMBOLICATED,
            state_changed=timezone.now(),
            error="",
            traceback="",
            lease_expires=None,
            queued=timezone.now(),  # the grouping task is published on commit
        )
        if not moved:
            raise LeaseLost(coredump.pk)  # rolls the trace back with the transaction
        _queue_group(saved.pk, coredump.pk)


def _trace_save(coredump: Coredump, data: dict) -> Trace:
    """Insert the trace, or replace the one an earlier attempt left: one statement
    (INSERT ... ON CONFLICT DO UPDATE) where update_or_create takes five."""
    trace = Trace(coredump=coredump, project_id=coredump.project_id, data=data)
    trace.title = trace_title(data)
    Trace.objects.bulk_create(
        [trace],
        update_conflicts=True,
        unique_fields=["coredump"],
        update_fields=["project", "data", "title"],
    )
    return trace


def trace_title(data: dict, result: grouping.GroupingResult | None = None) -> str:
    """The symbolicator's fault title ("UsageFault: divide by zero in calc_ratio"), else
    the trace reason and the top function. With a grouping result, a title that names a
    function grouping left out (an assert hook, a kernel function) names the top in-app
    function instead."""
    function = result.title_function if result is not None else _top_function(data)
    if data.get("title"):
        return _in_app_title(data["title"], data, result, function)[:300]
    reason = symbolicator.reasons.reason_name(data.get("trace_reason"))
    return f"{reason} in {function}" if function else reason


def _in_app_title(title: str, data: dict, result, function: str | None) -> str:
    place = ((data.get("fault") or {}).get("place") or {}).get("function")
    if result is None or not function or not place or not title.endswith(f" in {place}"):
        return title
    contributing = {c.value for c in result.components if c.contributes}
    return title if place in contributing else f"{title[: -len(place)]}{function}"


def _top_function(data: dict) -> str | None:
    for thread in data.get("threads", []):
        if thread.get("crashed"):
            return next((f["function"] for f in thread["frames"] if f.get("function")), None)
    return None


def _held(coredump: Coredump):
    """The coredump, if our claim on it still holds (`attempts` is its token)."""
    return leases.held(Coredump, coredump.pk, coredump.attempts, State.PROCESSING)


def _set_state(coredump: Coredump, state: str, error: str = "") -> None:
    """End the symbolicate stage in `state`, if the claim still holds."""
    moved = _held(coredump).update(
        state=state, state_changed=timezone.now(), error=error, lease_expires=None
    )
    if not moved:
        raise LeaseLost(coredump.pk)


def _fail(coredump: Coredump, error: str) -> None:
    log.warning("coredump %s failed: %s", coredump.pk, error)
    _set_state(coredump, State.FAILED, error)


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


# -- group -------------------------------------------------------------------


def _queue_group(trace_id: int, coredump_id: int) -> None:
    from dre.crashes.tasks import group_trace

    transaction.on_commit(lambda: _publish(group_trace, trace_id, coredump_id, State.SYMBOLICATED))


def grouping_rules_of(project_id: int) -> grouping.Rules:
    return grouping_rules_saved(project_id)


def trace_group(trace_id: int) -> None:
    """Attach a trace to the issue of its fingerprint, creating the issue if needed."""
    with transaction.atomic():
        trace = Trace.objects.select_related("coredump").get(pk=trace_id)
        # The row lock makes a duplicated group task wait, then see GROUPED.
        coredump = Coredump.objects.select_for_update().get(pk=trace.coredump_id)
        if coredump.state != State.SYMBOLICATED:
            return
        rules = grouping_rules_of(trace.project_id)
        result = grouping.group(trace.data, rules=rules)
        trace.title = trace_title(trace.data, result)
        issue, secondary, created = _issue_for(trace, result, rules)
        trace.issue = issue
        trace.fingerprint = result.fingerprint
        trace.grouping = {**result.to_dict(), **secondary}
        trace.save(update_fields=["issue", "fingerprint", "grouping", "title"])
        _count_trace(issue, trace)
        issue_trace_arrived(issue, trace)
        # Announced once counted, so the event's snapshot includes this trace.
        if created is not None:
            activity_announce(created)
        occurrence_announce(issue)
        Coredump.objects.filter(pk=coredump.pk).update(
            state=State.GROUPED, state_changed=timezone.now()
        )


def _issue_for(
    trace: Trace, result: grouping.GroupingResult, rules
) -> tuple[Issue, dict, IssueActivity | None]:
    """The issue of the fingerprint; else the issue of the fingerprint the previous config
    gives (the secondary hash: a grouping upgrade never splits an existing issue), which
    then gets this fingerprint too; else a new issue. Third, the CREATED entry
    if this trace created the issue."""
    if issue := _issue_of(trace.project_id, result.fingerprint):
        return issue, {}, None
    if result.config != grouping.SECONDARY_CONFIG:
        older = grouping.group(trace.data, grouping.SECONDARY_CONFIG, rules)
        if issue := _issue_of(trace.project_id, older.fingerprint):
            found = {"secondary": {"config": older.config, "fingerprint": older.fingerprint}}
            return _map_fingerprint(issue, result), found, None
    now = trace.coredump.received
    issue = Issue.objects.create(
        project_id=trace.project_id,
        title=trace.title,
        culprit=result.culprit()[:300],
        first_seen=now,
        last_seen=now,
    )
    mapped = _map_fingerprint(issue, result)
    if mapped != issue:
        issue.delete()
        return mapped, {}, None
    return issue, {}, IssueActivity.objects.create(issue=issue, kind=IssueActivity.Kind.CREATED)


def _issue_of(project_id: int, fingerprint: str) -> Issue | None:
    mapping = (
        IssueFingerprint.objects.filter(project=project_id, fingerprint=fingerprint)
        .select_related("issue")
        .first()
    )
    return mapping.issue if mapping else None


def _map_fingerprint(issue: Issue, result: grouping.GroupingResult) -> Issue:
    """Send the fingerprint's traces to `issue`; the issue that gets them, which is another
    one if a racing worker mapped the fingerprint first (the unique constraint decides and
    our insert is rolled back with its savepoint)."""
    try:
        with transaction.atomic():
            IssueFingerprint.objects.create(
                project_id=issue.project_id,
                fingerprint=result.fingerprint,
                issue=issue,
                grouping_config=result.config,
            )
    except IntegrityError:
        return _issue_of(issue.project_id, result.fingerprint)
    return issue


def _count_trace(issue: Issue, trace: Trace) -> None:
    """Bump the issue's counters and rollups (versions, hardware, days, hours, devices)."""
    coredump = trace.coredump
    seen = coredump.received
    Issue.objects.filter(pk=issue.pk).update(
        trace_count=F("trace_count") + 1,
        last_seen=Greatest("last_seen", seen),
        first_seen=Least("first_seen", seen),
    )
    _bump(IssueDay, issue, day=seen.date())
    _bump(IssueHour, issue, hour=IssueHour.hour_of(seen))
    if coredump.software_version_id:
        _bump(IssueVersion, issue, software_version_id=coredump.software_version_id)
    if coredump.hardware_version_id:
        _bump(IssueHardware, issue, hardware_version_id=coredump.hardware_version_id)
    if coredump.device_id:
        _, created = _bump(IssueDevice, issue, device_id=coredump.device_id, last_seen=seen)
        if created:
            Issue.objects.filter(pk=issue.pk).update(device_count=F("device_count") + 1)


def _bump(model, issue: Issue, last_seen=None, **key):
    """Count one trace in a rollup row, creating it safely under concurrent workers."""
    row, created = model.objects.get_or_create(issue=issue, **key)
    changes = {"trace_count": F("trace_count") + 1}
    if last_seen is not None:
        changes["last_seen"] = last_seen
    model.objects.filter(pk=row.pk).update(**changes)
    return row, created


# -- reprocess -----------------------------------------------------------------


class NotFailed(Exception):
    """Only a failed coredump or symbol file is processed again."""


def coredump_reprocess(coredump: Coredump) -> None:
    """Process a failed coredump again from its kept bytes, after the fix is deployed."""
    moved = Coredump.objects.filter(pk=coredump.pk, state=State.FAILED).update(
        state=State.RECEIVED,
        state_changed=timezone.now(),
        attempts=0,
        error="",
        traceback="",
        queued=timezone.now(),
        lease_expires=None,
    )
    if not moved:
        coredump.refresh_from_db(fields=["state"])
        raise NotFailed(f"coredump {coredump.pk} is {coredump.state}, not failed")
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
    return _recover_expired_leases(now) + _publish_unqueued(now)


def _recover_expired_leases(now) -> int:
    expired = Coredump.objects.filter(leases.expired(now), state=State.PROCESSING)
    count = 0
    for coredump_id, attempts in expired.values_list("pk", "attempts"):
        final = attempts >= settings.MAX_PROCESSING_ATTEMPTS
        changes = {
            "state": State.RECEIVED,
            "state_changed": now,
            "queued": now,
            "lease_expires": None,
        }
        if final:
            changes.update(state=State.FAILED, error=leases.died_error(attempts), queued=None)
        with transaction.atomic():
            # Conditional on the same expired claim: a worker that claimed it
            # meanwhile holds a fresh lease and a new token.
            moved = expired.filter(pk=coredump_id, attempts=attempts).update(**changes)
            if moved and not final:
                _queue_symbolicate(coredump_id)
        count += moved
    return count


def _publish_unqueued(now) -> int:
    grace = now - timedelta(seconds=5)
    lost = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    waiting = Coredump.objects.filter(
        Q(queued__isnull=True, state_changed__lt=grace) | Q(queued__lt=lost),
        state__in=[State.RECEIVED, State.SYMBOLICATED],
    ).order_by("state_changed")[:SWEEP_BATCH]
    count = 0
    for coredump_id, state in waiting.values_list("pk", "state"):
        publish = _publish_now if state == State.RECEIVED else _publish_group
        if not publish(coredump_id, mark=True):
            break  # the broker is down again: the next sweep goes on
        count += 1
    return count


def _publish_group(coredump_id: int, mark: bool = False) -> bool:
    from dre.crashes.tasks import group_trace

    trace_id = Trace.objects.filter(coredump=coredump_id).values_list("pk", flat=True).first()
    return trace_id is None or _publish(
        group_trace, trace_id, coredump_id, State.SYMBOLICATED, mark
    )


def _publish_now(coredump_id: int, mark: bool = False) -> bool:
    from dre.crashes.tasks import symbolicate_coredump

    return _publish(symbolicate_coredump, coredump_id, coredump_id, State.RECEIVED, mark)

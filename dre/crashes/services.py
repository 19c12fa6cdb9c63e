"""The crash pipeline: ingest -> symbolicate -> group.

Each stage is a service called by a thin Celery task. A stage first claims
its coredump with a conditional UPDATE on `state` and goes on only if exactly
one row changed, so a re-delivered or duplicated task never does the work
twice, and it queues the next stage only once its own transaction commits.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone

import symbolicator
from dre import blobs
from dre.accounts.models import Project
from dre.crashes import grouping
from dre.crashes.announce import activity_announce, occurrence_announce
from dre.crashes.models import (
    Coredump,
    GroupingRules,
    Issue,
    IssueActivity,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    IssueHardware,
    IssueVersion,
    Trace,
)
from dre.crashes.workflow import issue_trace_arrived
from dre.fleet.models import Device, SoftwareVersion
from dre.fleet.services import device_seen, hardware_version_get, software_version_get
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.selectors import symbol_file_for

log = logging.getLogger(__name__)

State = Coredump.State


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
) -> Coredump:
    """Store coredump bytes that arrived in a request body or a chunk message."""
    format_name = symbolicator.detect_format(data)
    if format_name is None:
        raise NotACoredump(
            f"not a coredump format dre knows (first bytes: {data[:8].hex(' ') or 'none'})"
        )
    stored = blobs.blob_save_bytes(blobs.blob_name("coredumps", project.pk, ".core"), data)
    coredump = coredump_create(
        project, stored, source=source, device=device, software_version=software_version
    )
    Coredump.objects.filter(pk=coredump.pk).update(format=format_name)
    return coredump


def _queue_symbolicate(coredump_id: int) -> None:
    from dre.crashes.tasks import symbolicate_coredump

    symbolicate_coredump.delay_on_commit(coredump_id)


# -- symbolicate -------------------------------------------------------------


def _claim(coredump_id: int, from_states: list[str], to_state: str) -> bool:
    claimed = Coredump.objects.filter(pk=coredump_id, state__in=from_states).update(
        state=to_state, state_changed=timezone.now(), attempts=F("attempts") + 1
    )
    return claimed == 1


def coredump_symbolicate(coredump_id: int) -> None:
    """Parse the coredump, find its symbols and turn it into a Trace."""
    if not _claim(coredump_id, [State.RECEIVED], State.PROCESSING):
        return
    coredump = Coredump.objects.select_related("project", "device").get(pk=coredump_id)
    try:
        _symbolicate(coredump)
    except Exception:
        # Hand the coredump back so the task's retry (or the sweeper) can
        # claim it again; the error itself goes to the task's log.
        _set_state(coredump, State.RECEIVED)
        raise


def _symbolicate(coredump: Coredump) -> None:
    try:
        parsed = symbolicator.parse_coredump(blobs.blob_read(coredump.blob))
    except symbolicator.SymbolicatorError as exc:
        _fail(coredump, f"could not parse the coredump: {exc}")
        return
    _record_metadata(coredump, parsed)
    with transaction.atomic():
        # Locking the symbol file row orders us against its indexer: either
        # we see it READY, or it sees us AWAITING_SYMBOLS when it releases.
        symbol_file = symbol_file_for(
            coredump.project_id,
            build_id=coredump.build_id,
            software_version_id=coredump.software_version_id,
            lock=True,
        )
        if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
            _set_state(coredump, State.AWAITING_SYMBOLS)
            return
    _symbolicate_with(coredump, parsed, symbol_file)


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
        device_seen(
            project,
            coredump.device.serial,
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
        saved, _ = Trace.objects.update_or_create(
            coredump=coredump,
            defaults={"project_id": coredump.project_id, "data": data, "title": trace_title(data)},
        )
        Coredump.objects.filter(pk=coredump.pk).update(
            symbol_file=symbol_file,
            state=State.SYMBOLICATED,
            state_changed=timezone.now(),
            error="",
        )
        _queue_group(saved.pk)


def trace_title(data: dict, function: str | None = None) -> str:
    """The symbolicator's fault title ("UsageFault: divide by zero in calc_ratio"), else
    the trace reason and the top function."""
    if data.get("title"):
        return data["title"][:300]
    reason = symbolicator.reasons.reason_name(data.get("trace_reason"))
    if function is None:
        function = _top_function(data)
    return f"{reason} in {function}" if function else reason


def _top_function(data: dict) -> str | None:
    for thread in data.get("threads", []):
        if thread.get("crashed"):
            return next((f["function"] for f in thread["frames"] if f.get("function")), None)
    return None


def _set_state(coredump: Coredump, state: str, error: str = "") -> None:
    Coredump.objects.filter(pk=coredump.pk).update(
        state=state, state_changed=timezone.now(), error=error
    )


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
    Coredump.objects.filter(pk__in=ids, state=State.AWAITING_SYMBOLS).update(
        state=State.RECEIVED, state_changed=timezone.now()
    )
    for coredump_id in ids:
        _queue_symbolicate(coredump_id)
    return len(ids)


# -- group -------------------------------------------------------------------


def _queue_group(trace_id: int) -> None:
    from dre.crashes.tasks import group_trace

    group_trace.delay_on_commit(trace_id)


def grouping_rules_of(project_id: int) -> grouping.Rules:
    found = GroupingRules.objects.filter(project_id=project_id).first()
    if found is None:
        return grouping.Rules()
    return grouping.Rules.parse(found.not_in_app, found.ignore_functions, found.max_frames)


def trace_group(trace_id: int) -> None:
    """Attach a trace to the issue of its fingerprint, creating the issue if needed."""
    with transaction.atomic():
        trace = Trace.objects.select_related("coredump").get(pk=trace_id)
        # The row lock makes a duplicated group task wait, then see GROUPED.
        coredump = Coredump.objects.select_for_update().get(pk=trace.coredump_id)
        if coredump.state != State.SYMBOLICATED:
            return
        result = grouping.group(trace.data, rules=grouping_rules_of(trace.project_id))
        issue, created = _issue_for(trace, result)
        trace.issue = issue
        trace.fingerprint = result.fingerprint
        trace.grouping = result.to_dict()
        trace.title = trace_title(trace.data)
        trace.save(update_fields=["issue", "fingerprint", "grouping", "title"])
        _count_trace(issue, trace)
        issue_trace_arrived(issue, trace)
        # Announced once counted, so the event's snapshot includes this trace.
        if created is not None:
            activity_announce(created)
        occurrence_announce(issue)
        _set_state(coredump, State.GROUPED)


def _issue_for(trace: Trace, result: grouping.GroupingResult) -> tuple[Issue, IssueActivity | None]:
    """The fingerprint's issue, and the CREATED entry if this trace created it."""
    existing = IssueFingerprint.objects.filter(
        project=trace.project_id, fingerprint=result.fingerprint
    ).select_related("issue")
    if mapping := existing.first():
        return mapping.issue, None
    now = trace.coredump.received
    issue = Issue.objects.create(
        project_id=trace.project_id, title=trace.title, first_seen=now, last_seen=now
    )
    # If another worker created the mapping first, its issue wins and ours is
    # rolled back with the savepoint.
    try:
        with transaction.atomic():
            IssueFingerprint.objects.create(
                project_id=trace.project_id,
                fingerprint=result.fingerprint,
                issue=issue,
                grouping_config=result.config,
            )
    except IntegrityError:
        issue.delete()
        return existing.get().issue, None
    return issue, IssueActivity.objects.create(issue=issue, kind=IssueActivity.Kind.CREATED)


def _count_trace(issue: Issue, trace: Trace) -> None:
    """Bump the issue's counters and rollups (versions, hardware, days, devices)."""
    coredump = trace.coredump
    seen = coredump.received
    Issue.objects.filter(pk=issue.pk).update(
        trace_count=F("trace_count") + 1,
        last_seen=Greatest("last_seen", seen),
        first_seen=Least("first_seen", seen),
    )
    _bump(IssueDay, issue, day=seen.date())
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


# -- sweeper -------------------------------------------------------------------


def coredumps_requeue_stuck(now=None) -> int:
    """Re-queue coredumps whose state has not moved for STUCK_AFTER_SECONDS.

    A worker that died mid-task leaves PROCESSING behind; a lost message
    leaves RECEIVED or SYMBOLICATED. Both are safe to run again.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = Coredump.objects.filter(state_changed__lt=cutoff)
    requeued = 0
    for coredump_id in stuck.filter(state__in=[State.RECEIVED, State.PROCESSING]).values_list(
        "pk", flat=True
    ):
        if _claim(coredump_id, [State.RECEIVED, State.PROCESSING], State.RECEIVED):
            _queue_symbolicate(coredump_id)
            requeued += 1
    for trace_id in Trace.objects.filter(
        coredump__in=stuck.filter(state=State.SYMBOLICATED)
    ).values_list("pk", flat=True):
        _queue_group(trace_id)
        requeued += 1
    return requeued

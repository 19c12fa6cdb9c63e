"""Trace events as issues: the crashes app's side of dre.diagnostics.

Diagnostics records a trace event, names its reason and symbolicates its PC and LR, then
hands the facts here; this module groups them (grouping.trace_events, pure), upserts the
issue of kind TRACE_EVENT and counts the occurrence like a crash trace, so the issue
list, trend, workflow (resolve, regress, mute) and alert events are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least

from dre.crashes.announce import activity_announce, occurrence_announce
from dre.crashes.grouping.model import GroupingResult
from dre.crashes.grouping.trace_events import (
    TraceEventFacts,
    group_trace_event,
    trace_event_title,
)
from dre.crashes.models import (
    Issue,
    IssueActivity,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    IssueHardware,
    IssueHour,
    IssueVersion,
)
from dre.crashes.workflow import issue_occurrence_arrived
from dre.fleet.models import SoftwareVersion


@dataclass(frozen=True)
class TraceEventOccurrence:
    project_id: int
    occurrence_id: int  # the diagnostics row, named in activity entries
    facts: TraceEventFacts
    received: datetime
    captured: datetime | None = None
    device_id: int | None = None
    software_version_id: int | None = None
    hardware_version_id: int | None = None


@dataclass(frozen=True)
class Grouped:
    issue_id: int
    fingerprint: str
    grouping: dict
    title: str


def trace_event_group(occurrence: TraceEventOccurrence) -> Grouped:
    """Attach one trace event to the issue of its fingerprint, creating it if needed."""
    result = group_trace_event(occurrence.facts)
    title = trace_event_title(occurrence.facts, result)
    with transaction.atomic():
        issue, created = _issue_for(occurrence, result, title)
        _count(issue, occurrence)
        issue_occurrence_arrived(
            issue,
            _version(occurrence.software_version_id),
            occurrence.captured or occurrence.received,
            trace_event=occurrence.occurrence_id,
        )
        if created is not None:
            activity_announce(created)
        occurrence_announce(issue)
    return Grouped(issue.pk, result.fingerprint, result.to_dict(), title)


def _issue_for(
    occurrence: TraceEventOccurrence, result: GroupingResult, title: str
) -> tuple[Issue, IssueActivity | None]:
    if issue := _issue_of(occurrence.project_id, result.fingerprint):
        return _followed(issue), None
    issue = Issue.objects.create(
        project_id=occurrence.project_id,
        kind=Issue.Kind.TRACE_EVENT,
        title=title[:300],
        culprit=result.culprit()[:300],
        first_seen=occurrence.received,
        last_seen=occurrence.received,
    )
    mapped = _map_fingerprint(issue, result)
    if mapped != issue:
        issue.delete()  # a racing worker mapped the fingerprint first
        return _followed(mapped), None
    return issue, IssueActivity.objects.create(issue=issue, kind=IssueActivity.Kind.CREATED)


def _issue_of(project_id: int, fingerprint: str) -> Issue | None:
    mapping = (
        IssueFingerprint.objects.filter(project=project_id, fingerprint=fingerprint)
        .select_related("issue")
        .first()
    )
    return mapping.issue if mapping else None


def _map_fingerprint(issue: Issue, result: GroupingResult) -> Issue:
    """Send the fingerprint's occurrences to `issue`; the issue that gets them, which is
    another one if a racing worker mapped the fingerprint first (the unique constraint
    decides and our insert is rolled back with its savepoint)."""
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


def _followed(issue: Issue) -> Issue:
    """Merging moves fingerprints, so a mapped issue is never MERGED; this only guards
    against a mapping read just before a merge committed."""
    return issue.merged_into if issue.state == Issue.State.MERGED and issue.merged_into else issue


def _count(issue: Issue, occurrence: TraceEventOccurrence) -> None:
    seen = occurrence.received
    Issue.objects.filter(pk=issue.pk).update(
        trace_count=F("trace_count") + 1,
        last_seen=Greatest("last_seen", seen),
        first_seen=Least("first_seen", seen),
    )
    _bump(IssueDay, issue, day=seen.date())
    _bump(IssueHour, issue, hour=IssueHour.hour_of(seen))
    if occurrence.software_version_id:
        _bump(IssueVersion, issue, software_version_id=occurrence.software_version_id)
    if occurrence.hardware_version_id:
        _bump(IssueHardware, issue, hardware_version_id=occurrence.hardware_version_id)
    if occurrence.device_id:
        _, created = _bump(IssueDevice, issue, device_id=occurrence.device_id, last_seen=seen)
        if created:
            Issue.objects.filter(pk=issue.pk).update(device_count=F("device_count") + 1)


def _bump(model, issue: Issue, last_seen=None, **key):
    """Count one occurrence in a rollup row, creating it safely under concurrent workers
    (one trace event at a time: the crash pipeline counts its batches in dre/crashes/group.py)."""
    row, created = model.objects.get_or_create(issue=issue, **key)
    changes = {"trace_count": F("trace_count") + 1}
    if last_seen is not None:
        changes["last_seen"] = last_seen
    model.objects.filter(pk=row.pk).update(**changes)
    return row, created


def _version(software_version_id: int | None) -> str | None:
    if not software_version_id:
        return None
    return (
        SoftwareVersion.objects.filter(pk=software_version_id)
        .values_list("version", flat=True)
        .first()
    )

"""Trace events as issues: the crashes app's side of dre.diagnostics.

Diagnostics records a trace event, names its reason and symbolicates its PC and LR, then
hands the facts here; this module groups them (grouping.trace_events, pure), upserts the
issue of kind TRACE_EVENT and counts the occurrence like a crash trace, so the issue
list, trend, workflow (resolve, regress, mute) and alert events are the same. The
fingerprint mappings (fingerprints.py) and rollup counts (rollups.py) are written as a
batch of crash traces writes them, here a batch of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least

from dre.crashes.announce import activity_announce, occurrence_announce
from dre.crashes.fingerprints import fingerprint_issues, fingerprints_map
from dre.crashes.grouping.model import GroupingResult
from dre.crashes.grouping.trace_events import (
    TraceEventFacts,
    group_trace_event,
    trace_event_title,
)
from dre.crashes.models import Issue, IssueActivity, IssueFingerprint
from dre.crashes.rollups import Occurrence, rollups_add
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
    key = (occurrence.project_id, result.fingerprint)
    if mapped := fingerprint_issues({key}).get(key):
        return _followed(mapped), None
    issue = Issue.objects.create(
        project_id=occurrence.project_id,
        kind=Issue.Kind.TRACE_EVENT,
        title=title[:300],
        culprit=result.culprit()[:300],
        first_seen=occurrence.received,
        last_seen=occurrence.received,
    )
    mapping = IssueFingerprint(
        project_id=issue.project_id,
        fingerprint=result.fingerprint,
        issue=issue,
        grouping_config=result.config,
    )
    if (mapped := fingerprints_map([mapping])[key]) != issue.pk:
        issue.delete()  # a racing worker mapped the fingerprint first
        return _followed(mapped), None
    return issue, IssueActivity.objects.create(issue=issue, kind=IssueActivity.Kind.CREATED)


def _followed(issue_id: int) -> Issue:
    """Merging moves fingerprints, so a mapped issue is never MERGED; this only guards
    against a mapping read just before a merge committed."""
    issue = Issue.objects.select_related("merged_into").get(pk=issue_id)
    return issue.merged_into if issue.state == Issue.State.MERGED and issue.merged_into else issue


def _count(issue: Issue, occurrence: TraceEventOccurrence) -> None:
    seen = occurrence.received
    new_devices = rollups_add(
        [
            Occurrence(
                issue.pk,
                seen,
                occurrence.software_version_id,
                occurrence.hardware_version_id,
                occurrence.device_id,
            )
        ]
    )
    Issue.objects.filter(pk=issue.pk).update(
        trace_count=F("trace_count") + 1,
        device_count=F("device_count") + len(new_devices),
        last_seen=Greatest("last_seen", seen),
        first_seen=Least("first_seen", seen),
    )


def _version(software_version_id: int | None) -> str | None:
    if not software_version_id:
        return None
    return (
        SoftwareVersion.objects.filter(pk=software_version_id)
        .values_list("version", flat=True)
        .first()
    )

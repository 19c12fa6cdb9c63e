"""What the crashes app tells the rest of dre about issues, through dre.events.

Each event carries a snapshot of the issue (counts, where it was seen) so subscribers
such as alerts can filter on it without reading crashes' tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from django.utils import timezone

from dre import events
from dre.crashes.models import Issue, IssueActivity, IssueComment, IssueDevice, IssueVersion

EventType = events.EventType
Kind = IssueActivity.Kind

TYPE_OF_KIND = {
    Kind.CREATED: EventType.ISSUE_CREATED,
    Kind.REGRESSED: EventType.ISSUE_REGRESSED,
    Kind.REOPENED: EventType.ISSUE_REOPENED,
    Kind.UNMUTED: EventType.ISSUE_REOPENED,
    Kind.RESOLVED: EventType.ISSUE_RESOLVED,
    Kind.COMMENTED: EventType.ISSUE_COMMENTED,
}
HOUR = timedelta(hours=1)
# Someone muted it (or merged it away): its traces are not news.
QUIET_STATES = (Issue.State.MUTED, Issue.State.MERGED)


def activity_announce(activity: IssueActivity) -> None:
    """Publish the event an activity entry stands for, if it stands for one."""
    if activity.kind not in TYPE_OF_KIND:
        return
    issue = Issue.objects.select_related("project__organization").get(pk=activity.issue_id)
    _activity_publish(activity, issue, issue_snapshot(issue))


def _activity_publish(activity: IssueActivity, issue: Issue, snapshot: dict) -> None:
    data = dict(snapshot)
    data["actor"] = activity.actor.get_username() if activity.actor_id else None
    data["activity"] = dict(activity.data)
    if activity.kind == Kind.COMMENTED:
        comment = IssueComment.objects.filter(pk=activity.data.get("comment")).first()
        data["comment"] = comment.text if comment else ""
    key = f"issue_activity:{activity.pk}"
    events.publish(events.Event(TYPE_OF_KIND[activity.kind], issue.project_id, key, data))


def traces_announce(activities: list[IssueActivity], issues: list[Issue], now=None) -> None:
    """What a batch of traces did to its issues (`issues` saved and loaded with their
    project and organization): each saved activity entry (created, regressed), then one
    occurrence per issue, all with the issues' counts after the batch."""
    now = now or timezone.now()
    snapshots = issue_snapshots(issues, now)
    by_id = {issue.pk: issue for issue in issues}
    for activity in activities:
        if activity.kind in TYPE_OF_KIND:
            _activity_publish(activity, by_id[activity.issue_id], snapshots[activity.issue_id])
    for issue in issues:
        if issue.state not in QUIET_STATES:
            _occurrence_publish(issue, snapshots[issue.pk], now)


def occurrence_announce(issue: Issue, now=None) -> None:
    """A trace arrived: one event per issue and clock hour, re-published with fresh counts
    on every trace, so a rule "over N devices in an hour" fires once the count gets there."""
    now = now or timezone.now()
    issue = Issue.objects.select_related("project__organization").get(pk=issue.pk)
    if issue.state not in QUIET_STATES:
        _occurrence_publish(issue, issue_snapshot(issue, now=now), now)


def _occurrence_publish(issue: Issue, snapshot: dict, now) -> None:
    key = f"issue_occurred:{issue.pk}:{now:%Y%m%d%H}"
    events.publish(events.Event(EventType.ISSUE_OCCURRED, issue.project_id, key, snapshot))


def issue_snapshot(issue: Issue, now=None) -> dict:
    return issue_snapshots([issue], now)[issue.pk]


def issue_snapshots(issues: list[Issue], now=None) -> dict[int, dict]:
    """What an event tells about each issue, read with three queries for all of them."""
    now = now or timezone.now()
    ids = [issue.pk for issue in issues]
    devices = IssueDevice.objects.filter(issue__in=ids)
    recent = Counter(devices.filter(last_seen__gt=now - HOUR).values_list("issue_id", flat=True))
    cohorts, types, versions = defaultdict(set), defaultdict(set), defaultdict(set)
    for issue_id, cohort_id in devices.values_list("issue_id", "device__cohort_id").distinct():
        cohorts[issue_id].add(cohort_id)
    rows = IssueVersion.objects.filter(issue__in=ids).values_list(
        "issue_id", "software_version__software_type_id", "software_version__version"
    )
    for issue_id, software_type_id, version in rows:
        types[issue_id].add(software_type_id)
        versions[issue_id].add(version)
    return {
        issue.pk: {
            **_issue_fields(issue),
            "devices_last_hour": recent[issue.pk],
            "software_type_ids": sorted(types[issue.pk]),
            "software_versions": sorted(versions[issue.pk]),
            "cohort_ids": sorted(cohorts[issue.pk]),
        }
        for issue in issues
    }


def _issue_fields(issue: Issue) -> dict:
    project = issue.project
    return {
        "issue": {
            "id": issue.pk,
            "title": issue.title,
            "state": issue.state,
            "trace_count": issue.trace_count,
            "device_count": issue.device_count,
            "first_seen": issue.first_seen.isoformat(),
            "last_seen": issue.last_seen.isoformat(),
            "path": f"/{project.organization.slug}/{project.slug}/issues/{issue.pk}/",
        },
        "project": {"organization": project.organization.slug, "slug": project.slug},
    }

"""What the crashes app tells the rest of dre about issues, through dre.events.

Each event carries a snapshot of the issue (counts, where it was seen) so subscribers
such as alerts can filter on it without reading crashes' tables.
"""

from __future__ import annotations

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
    event_type = TYPE_OF_KIND.get(activity.kind)
    if event_type is None:
        return
    issue = Issue.objects.select_related("project__organization").get(pk=activity.issue_id)
    data = issue_snapshot(issue)
    data["actor"] = activity.actor.get_username() if activity.actor_id else None
    data["activity"] = dict(activity.data)
    if activity.kind == Kind.COMMENTED:
        comment = IssueComment.objects.filter(pk=activity.data.get("comment")).first()
        data["comment"] = comment.text if comment else ""
    key = f"issue_activity:{activity.pk}"
    events.publish(events.Event(event_type, issue.project_id, key, data))


def occurrence_announce(issue: Issue, now=None) -> None:
    """A trace arrived: one event per issue and clock hour, re-published with fresh counts
    on every trace, so a rule "over N devices in an hour" fires once the count gets there."""
    now = now or timezone.now()
    issue = Issue.objects.select_related("project__organization").get(pk=issue.pk)
    if issue.state in QUIET_STATES:
        return
    key = f"issue_occurred:{issue.pk}:{now:%Y%m%d%H}"
    data = issue_snapshot(issue, now=now)
    events.publish(events.Event(EventType.ISSUE_OCCURRED, issue.project_id, key, data))


def issue_snapshot(issue: Issue, now=None) -> dict:
    now = now or timezone.now()
    devices = IssueDevice.objects.filter(issue=issue)
    versions = IssueVersion.objects.filter(issue=issue).select_related("software_version")
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
        "devices_last_hour": devices.filter(last_seen__gt=now - HOUR).count(),
        "software_type_ids": sorted({v.software_version.software_type_id for v in versions}),
        "software_versions": sorted({v.software_version.version for v in versions}),
        "cohort_ids": sorted(set(devices.values_list("device__cohort_id", flat=True))),
    }

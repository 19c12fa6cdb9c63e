"""Words for notifications: one line per event, for email subjects and Slack."""

from __future__ import annotations

from django.conf import settings

from dre.events import EventType

HEADLINES = {
    EventType.ISSUE_CREATED: "New issue",
    EventType.ISSUE_REGRESSED: "Issue regressed",
    EventType.ISSUE_REOPENED: "Issue reopened",
    EventType.ISSUE_RESOLVED: "Issue resolved",
    EventType.ISSUE_COMMENTED: "New comment on issue",
    EventType.ISSUE_OCCURRED: "Issue spreading",
    EventType.DEVICE_ALERT_TRIGGERED: "Device alert",
    EventType.DEVICE_ALERT_RESOLVED: "Device alert resolved",
    EventType.FLEET_ALERT_TRIGGERED: "Fleet alert",
    EventType.FLEET_ALERT_RESOLVED: "Fleet alert resolved",
    EventType.ROLLOUT_HALTED: "Rollout halted",
    EventType.ROLLOUT_RESUMED: "Rollout resumed",
    EventType.ROLLOUT_WIDENED: "Rollout widened",
    "webhook.test": "Test notification",
}


def link(path: str) -> str:
    """An absolute URL where PUBLIC_URL is set, else the path alone."""
    return f"{settings.PUBLIC_URL}{path}" if path else ""


def describe_event(event_type: str, data: dict, slack: bool = False) -> str:
    headline = HEADLINES.get(event_type, event_type)
    project = data.get("project") or {}
    where = f"{project.get('organization')}/{project.get('slug')}" if project else ""
    subject = _subject(data)
    if subject is None:
        return f"{headline}: {data.get('message', '')}".strip()
    path, title = subject
    url = link(path)
    # Slack's mrkdwn link form is <url|text> (api.slack.com "Formatting text").
    shown = f"<{url}|{title}>" if slack and url.startswith("http") else title
    return f"{headline} in {where}: {shown}"


def _subject(data: dict) -> tuple[str, str] | None:
    """What the event is about, as (path, title): an issue, an incident, a rollout."""
    if issue := data.get("issue"):
        return issue.get("path", ""), issue.get("title", "")
    if incident := data.get("incident"):
        monitor = data.get("monitor") or {}
        device = data.get("device") or {}
        title = f"{monitor.get('name')}: {monitor.get('condition')}"
        if device:
            title += f" on device {device.get('serial')}"
        return incident.get("path", ""), f"{title} (value {incident.get('last_value'):g})"
    if deployment := data.get("deployment"):
        release = (data.get("release") or {}).get("version", "")
        cohort = (data.get("cohort") or {}).get("slug", "")
        title = f"release {release} to cohort {cohort}".strip()
        return deployment.get("path", ""), title
    return None


def describe_details(event_type: str, data: dict) -> str:
    """The email body: the headline, the link, the counts, who did it."""
    issue = data.get("issue") or {}
    lines = [describe_event(event_type, data), ""]
    if issue:
        lines.append(link(issue.get("path", "")))
        lines.append(
            f"{issue.get('trace_count')} traces on {issue.get('device_count')} devices, "
            f"{data.get('devices_last_hour', 0)} devices in the last hour."
        )
    if incident := data.get("incident"):
        lines.append(link(incident.get("path", "")))
        lines.append(_incident_times(incident))
    if deployment := data.get("deployment"):
        lines.append(link(deployment.get("path", "")))
        if data.get("reason"):
            lines.append(f"Reason: {data['reason']}")
        if data.get("evidence"):
            lines.append(f"Evidence: {data['evidence']}")
    if data.get("software_versions"):
        lines.append("Versions: " + ", ".join(data["software_versions"]))
    if data.get("actor"):
        lines.append(f"By {data['actor']}.")
    if data.get("comment"):
        lines += ["", data["comment"]]
    return "\n".join(lines) + "\n"


def _incident_times(incident: dict) -> str:
    line = f"Condition held since {incident.get('started')}, alert at {incident.get('triggered')}"
    if incident.get("resolved"):
        line += f", resolved at {incident['resolved']}"
    return line + "."

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
    "webhook.test": "Test notification",
}


def link(path: str) -> str:
    """An absolute URL where PUBLIC_URL is set, else the path alone."""
    return f"{settings.PUBLIC_URL}{path}" if path else ""


def describe_event(event_type: str, data: dict, slack: bool = False) -> str:
    headline = HEADLINES.get(event_type, event_type)
    project = data.get("project") or {}
    where = f"{project.get('organization')}/{project.get('slug')}" if project else ""
    issue = data.get("issue")
    if not issue:
        return f"{headline}: {data.get('message', '')}".strip()
    url, title = link(issue.get("path", "")), issue.get("title", "")
    # Slack's mrkdwn link form is <url|text> (api.slack.com "Formatting text").
    shown = f"<{url}|{title}>" if slack and url.startswith("http") else title
    return f"{headline} in {where}: {shown}"


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
    if data.get("software_versions"):
        lines.append("Versions: " + ", ".join(data["software_versions"]))
    if data.get("actor"):
        lines.append(f"By {data['actor']}.")
    if data.get("comment"):
        lines += ["", data["comment"]]
    return "\n".join(lines) + "\n"

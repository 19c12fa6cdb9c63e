"""A device's timeline: everything it sent, from the apps that own each kind.

Composed here, from selectors only: heartbeats and reboots (dre.health), traces
(dre.crashes), trace events, logs and recordings (this app).
"""

from __future__ import annotations

from dre.crashes import selectors as crashes
from dre.diagnostics import selectors as diagnostics
from dre.health import selectors as health

TIMELINE_LIMIT = 100
LOG_PREVIEW = 5


def device_timeline(project, device, limit: int = TIMELINE_LIMIT) -> list[dict]:
    """Everything the device sent, newest first: each kind from its own app's selector."""
    items = [
        {"time": i.ended, "kind": "heartbeat", "title": i.session, "interval": i}
        for i in health.device_intervals(device, limit=limit)
    ]
    items += [
        {"time": r.time, "kind": "reboot", "title": r.reason_name, "reboot": r}
        for r in health.device_reboots(device, limit=limit)
    ]
    items += [
        {"time": t.created, "kind": "trace", "title": t.title, "trace": t}
        for t in crashes.trace_list(project, device=device, limit=limit).items
    ]
    items += [
        {"time": e.time, "kind": "trace_event", "title": _trace_event_title(e), "trace_event": e}
        for e in diagnostics.device_trace_events(device, limit=limit)
    ]
    items += [
        {"time": b.time, "kind": "logs", "title": _lines(b.count), "logs": b}
        for b in diagnostics.device_log_batches(device, limit=limit)
    ]
    items += [
        {"time": r.time, "kind": "recording", "title": r.reason or "recording", "recording": r}
        for r in diagnostics.device_recordings(device, limit=limit)
    ]
    items = sorted(items, key=lambda item: item["time"], reverse=True)[:limit]
    # Lines only for the log events that made the cut: a timeline shows a preview.
    shown = [item["logs"] for item in items if item["kind"] == "logs"]
    diagnostics.log_batches_fill(shown, project.pk, preview=LOG_PREVIEW)
    return items


def _trace_event_title(event) -> str:
    if event.issue_id:
        return event.issue.title
    return f"Trace event reason {event.reason} (waiting for the ELF)"


def _lines(count: int) -> str:
    return f"{count} log line{'s' if count != 1 else ''}"

"""Fleet health pages: the project overview, the metrics explorer and a device's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from dre.crashes import selectors as crashes
from dre.fleet.models import Device
from dre.health import selectors as health
from dre.health.resolution import trace_reason_name
from dre.ingest.models import Event
from dre.ingest.selectors import device_events
from dre.web.access import project_access
from dre.web.views.common import int_param, render_page

TIMELINE_LIMIT = 100
# A trace event is not a Trace (a processed crash): the timeline names them apart.
TIMELINE_KINDS = {"trace": "trace_event", "logs": "logs", "cdr": "recording"}


@login_required
@require_http_methods(["GET", "HEAD"])
def health_overview(request, org, project):
    access = project_access(request, org, project)
    days = min(max(int_param(request, "days", 30), 1), 365)
    context = {
        "days": days,
        "releases": health.release_stability(access.project, days=days),
        "active_devices": health.active_devices(access.project, days=1),
        "active_devices_window": health.active_devices(access.project, days=days),
        "reboot_reasons": health.reboot_reasons(access.project, days=days)[:10],
        "charts": {"days": health.stability_per_day(access.project, days=days)},
        "devices": Device.objects.filter(project=access.project)
        .select_related("hardware_version", "software_version__software_type", "cohort")
        .order_by("-last_seen")[:20],
    }
    return render_page(request, "web/health_overview.html", context)


EXPLORER_SPLITS = {
    "software_version": "Software version",
    "hardware_version": "Hardware version",
    "cohort": "Cohort",
    "": "Fleet",
}
EXPLORER_AGGREGATES = ("mean", "min", "max", "p50", "p90", "p95", "p99", "sum", "count")


@login_required
@require_http_methods(["GET", "HEAD"])
def metrics_explorer(request, org, project):
    """Any metric per day, one line per software version, hardware version or cohort."""
    access = project_access(request, org, project)
    metrics = list(health.metrics_of(access.project))
    keys = [m.key for m in metrics]
    metric = request.GET.get("metric") or (keys[0] if keys else "")
    split_by = request.GET.get("split_by", "software_version")
    split_by = split_by if split_by in EXPLORER_SPLITS else "software_version"
    aggregate = request.GET.get("aggregate", "mean")
    aggregate = aggregate if aggregate in EXPLORER_AGGREGATES else "mean"
    days = min(max(int_param(request, "days", 30), 1), 366)
    rows = health.metric_explore(access.project, metric, split_by=split_by or None, days=days)
    labels = health.group_labels(access.project, split_by, {row["group"] for row in rows})
    for row in rows:
        row["label"] = labels.get(row["group"], "fleet" if not split_by else "unknown")
    context = {
        "metrics": metrics,
        "metric": next((m for m in metrics if m.key == metric), None),
        "split_by": split_by,
        "splits": EXPLORER_SPLITS,
        "split_name": EXPLORER_SPLITS[split_by],
        "aggregate": aggregate,
        "aggregates": EXPLORER_AGGREGATES,
        "days": days,
        "rows": rows,
        "charts": {"rows": rows, "aggregate": aggregate},
    }
    return render_page(request, "web/health_metrics.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def device_detail(request, org, project, serial):
    access = project_access(request, org, project)
    device = get_object_or_404(
        Device.objects.select_related(
            "hardware_version", "software_version__software_type", "cohort"
        ),
        project=access.project,
        serial=serial,
    )
    context = {
        "device": device,
        "timeline": _timeline(access.project, device),
        "charts": {"metrics": health.device_metric_series(device)},
        "metric_values": health.device_metric_values(device),
    }
    return render_page(request, "web/device_detail.html", context)


def _timeline(project, device) -> list[dict]:
    """Heartbeats, reboots, traces, trace events and logs of the device, newest first."""
    items = [
        {"time": i.ended, "kind": "heartbeat", "title": i.session, "interval": i}
        for i in health.device_intervals(device, limit=TIMELINE_LIMIT)
    ]
    items += [
        {"time": r.time, "kind": "reboot", "title": r.reason_name, "reboot": r}
        for r in health.device_reboots(device, limit=TIMELINE_LIMIT)
    ]
    items += [
        {"time": t.created, "kind": "trace", "title": t.title, "trace": t}
        for t in crashes.trace_list(project, device=device, limit=TIMELINE_LIMIT).items
    ]
    kinds = [Event.Kind.TRACE, Event.Kind.LOGS, Event.Kind.CDR]
    items += [
        {
            "time": e.captured or e.received,
            "kind": TIMELINE_KINDS[e.kind],
            "title": _event_title(project, e),
            "event": e,
        }
        for e in device_events(device, kinds, limit=TIMELINE_LIMIT)
    ]
    return sorted(items, key=lambda item: item["time"], reverse=True)[:TIMELINE_LIMIT]


def _event_title(project, event) -> str:
    info = event.data.get("info", {})
    if event.kind == Event.Kind.LOGS:
        lines = info.get("lines", [])
        return f"{len(lines)} log line{'s' if len(lines) != 1 else ''}"
    if event.kind == Event.Kind.TRACE:
        return f"trace event {_trace_reason(project, event, info.get('user_reason'))}"
    return f"custom data recording {info.get('reason') or ''}".strip()


def _trace_reason(project, event, reason) -> str:
    """The reason's name from the build's ELF, else its number (the ELF may come later)."""
    prefix = (event.data.get("build_id_prefix") or {}).get("hex", "")
    name = trace_reason_name(
        project.pk,
        build_id_prefix=prefix,
        software_version_id=event.software_version_id,
        reason=reason,
    )
    return name or f"reason {reason}"

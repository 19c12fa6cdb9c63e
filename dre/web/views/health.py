"""Fleet health pages: the project overview and the metrics explorer (a device's page is
in devices.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods

from dre.fleet.models import Device
from dre.health import selectors as health
from dre.web.access import project_access
from dre.web.views.common import int_param, render_page


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

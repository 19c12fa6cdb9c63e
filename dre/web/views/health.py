"""Fleet health pages: the project overview (a device's page is in devices.py)."""

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
        "devices": Device.objects.filter(project=access.project).order_by("-last_seen")[:20],
    }
    return render_page(request, "web/health_overview.html", context)

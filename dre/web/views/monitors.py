"""Metric monitor pages: a project's monitors and incidents (members add and remove
monitors), and one incident with its timeline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.monitors import selectors, services
from dre.monitors.models import Incident, Monitor
from dre.web.access import project_access
from dre.web.monitor_forms import MonitorForm
from dre.web.views.common import render_page


def _page(request, access, **context):
    project = access.project
    context.setdefault("monitor_form", MonitorForm(project=project))
    state = request.GET.get("state") or None
    if state not in (None, *Incident.State.values):
        state = None
    context["state"] = state
    context["monitors"] = selectors.monitors_of(project)
    context["incidents"] = selectors.incidents_of(project, state=state)[:200]
    return render_page(request, "web/incidents.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def incidents(request, org, project):
    return _page(request, project_access(request, org, project))


@login_required
@require_http_methods(["GET", "HEAD"])
def incident_detail(request, org, project, incident_id):
    access = project_access(request, org, project)
    incident = selectors.incident_with_timeline(access.project, incident_id)
    if incident is None:
        raise Http404("no such incident")
    return render_page(request, "web/incident_detail.html", {"incident": incident})


@login_required
@require_POST
def monitor_create(request, org, project):
    access = project_access(request, org, project, needs=Role.MEMBER)
    form = MonitorForm(request.POST, project=access.project)
    if not form.is_valid():
        return _page(request, access, monitor_form=form)
    monitor = form.save(commit=False)
    monitor.project = access.project
    try:
        services.monitor_save(monitor)
    except services.MonitorError as error:
        form.add_error(None, str(error))
        return _page(request, access, monitor_form=form)
    messages.success(request, f"Monitor {monitor.name!r} saved.")
    return redirect("incidents", org=org, project=project)


@login_required
@require_POST
def monitor_delete(request, org, project, monitor_id):
    access = project_access(request, org, project, needs=Role.MEMBER)
    services.monitor_delete(get_object_or_404(Monitor, project=access.project, pk=monitor_id))
    messages.success(request, "Monitor deleted.")
    return redirect("incidents", org=org, project=project)

"""Reads: a project's monitors and incidents, an incident's timeline."""

from __future__ import annotations

from django.db.models import QuerySet

from dre.monitors.models import Incident, Monitor


def monitors_of(project) -> QuerySet:
    return (
        Monitor.objects.filter(project=project)
        .select_related("cohort", "software_version")
        .order_by("name", "pk")
    )


def incidents_of(project, *, state: str | None = None, monitor_id: int | None = None) -> QuerySet:
    found = Incident.objects.filter(project=project).select_related("monitor", "device")
    if state:
        found = found.filter(state=state)
    if monitor_id:
        found = found.filter(monitor_id=monitor_id)
    return found.order_by("-triggered", "-pk")


def incident_with_timeline(project, incident_id: int) -> Incident | None:
    return (
        Incident.objects.filter(project=project, pk=incident_id)
        .select_related("monitor", "device")
        .prefetch_related("timeline")
        .first()
    )

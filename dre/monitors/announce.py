"""Incidents as domain events (dre.events), for alert rules to deliver."""

from __future__ import annotations

from dre import events
from dre.monitors.models import Incident, Monitor

T = events.EventType
TYPES = {
    (Monitor.Kind.DEVICE, "triggered"): T.DEVICE_ALERT_TRIGGERED,
    (Monitor.Kind.DEVICE, "resolved"): T.DEVICE_ALERT_RESOLVED,
    (Monitor.Kind.FLEET, "triggered"): T.FLEET_ALERT_TRIGGERED,
    (Monitor.Kind.FLEET, "resolved"): T.FLEET_ALERT_RESOLVED,
}


def incident_announce(incident: Incident, what: str) -> None:
    """Publish in the transaction that changed the incident; the key names the incident
    and the change, so a retried evaluation announces nothing new."""
    monitor = incident.monitor
    event_type = TYPES[(monitor.kind, what)]
    key = f"incident:{incident.pk}:{what}"
    events.publish(events.Event(event_type, incident.project_id, key, incident_data(incident)))


def incident_data(incident: Incident) -> dict:
    monitor, project = incident.monitor, incident.monitor.project
    version = monitor.software_version
    base = f"/{project.organization.slug}/{project.slug}"
    data = {
        "monitor": {
            "id": monitor.pk,
            "name": monitor.name,
            "kind": monitor.kind,
            "metric": monitor.metric_key,
            "condition": monitor.describe(),
        },
        "incident": {
            "id": incident.pk,
            "state": incident.state,
            "started": incident.started.isoformat(),
            "triggered": incident.triggered.isoformat(),
            "resolved": incident.resolved.isoformat() if incident.resolved else None,
            "value": incident.value,
            "last_value": incident.last_value,
            "path": f"{base}/incidents/{incident.pk}/",
        },
        "project": {"organization": project.organization.slug, "slug": project.slug},
        "cohort_ids": [monitor.cohort_id] if monitor.cohort_id else [],
        "software_versions": [version.version] if version else [],
        "software_type_ids": [version.software_type_id] if version else [],
    }
    if incident.device_id:
        data["device"] = {"id": incident.device_id, "serial": incident.device.serial}
    return data

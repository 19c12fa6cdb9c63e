"""Device attributes: the latest value of each attribute metric a device reported.

The seam between the device page and the metric registry. Which metrics are attributes
is the registry's to say (`Metric.kind`: attribute or both; strings default to attribute),
and their latest values are kept per device as heartbeats are stored
(`DeviceMetricValue`, which a late heartbeat never overwrites): the page reads one small
table instead of scanning intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dre.fleet.models import Device
from dre.health.models import DeviceMetricValue, Metric


@dataclass(frozen=True)
class Attribute:
    key: str
    display_name: str
    value: object
    unit: str
    reported: datetime


def device_attributes(device: Device) -> list[Attribute]:
    """The newest value of every attribute metric, by display name."""
    values = DeviceMetricValue.objects.filter(project_id=device.project_id, device=device)
    latest = {v.key: v for v in values}
    metrics = Metric.objects.filter(project_id=device.project_id, key__in=list(latest))
    found = [
        Attribute(m.key, m.display_name, latest[m.key].value, m.unit, latest[m.key].time)
        for m in metrics
        if m.is_attribute
    ]
    return sorted(found, key=lambda a: a.display_name.lower())

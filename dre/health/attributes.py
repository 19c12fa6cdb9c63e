"""Device attributes: the latest value of each attribute metric a device reported.

The seam between the device page and the metric registry. Which metrics are attributes
is the registry's to say: a registry entry that carries an `is_attribute` flag (the
registry grows one with timeseries/attribute/both) is taken at its word; until then a
string metric (cmd_name, a build flavour, a modem firmware) is an attribute, since a
text value has no series to chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dre.fleet.models import Device
from dre.health.models import HeartbeatInterval, Metric

# How far back to look: attributes change rarely, and a device reports every hour.
RECENT_INTERVALS = 200


@dataclass(frozen=True)
class Attribute:
    key: str
    display_name: str
    value: object
    unit: str
    reported: datetime


def is_attribute(metric: Metric) -> bool:
    flag = getattr(metric, "is_attribute", None)
    if flag is not None:
        return bool(flag)
    return metric.type == Metric.Type.STRING


def device_attributes(device: Device) -> list[Attribute]:
    """The newest non-null value of every attribute metric, by display name."""
    intervals = (
        HeartbeatInterval.objects.filter(
            project_id=device.project_id,
            device=device,
            state=HeartbeatInterval.State.RESOLVED,
        )
        .order_by("-ended")
        .values_list("ended", "values")[:RECENT_INTERVALS]
    )
    latest: dict[str, tuple[object, datetime]] = {}
    for ended, values in intervals:
        for key, value in values.items():
            if value is not None and key not in latest:
                latest[key] = (value, ended)
    metrics = Metric.objects.filter(project_id=device.project_id, key__in=list(latest))
    found = [
        Attribute(m.key, m.display_name, latest[m.key][0], m.unit, latest[m.key][1])
        for m in metrics
        if is_attribute(m)
    ]
    return sorted(found, key=lambda a: a.display_name.lower())

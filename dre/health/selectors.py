"""Reads for fleet health. Fleet-wide numbers come from the daily rollups only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Device
from dre.fleet.versions import version_key
from dre.health import sketch
from dre.health.models import (
    DeviceMetricValue,
    HeartbeatInterval,
    Metric,
    MetricDailyRollup,
    Reboot,
    StabilityDailyRollup,
)
from dre.health.stats import Estimate, mean_time_between, wilson

# What a stability table may be split by, and the rollup column that holds it.
GROUPINGS = {
    "software_version": "software_version",
    "hardware_version": "hardware_version",
    "cohort": "cohort",
    "day": "day",
}
SUMS = (
    "devices",
    "crashed_devices",
    "sessions",
    "crashed_sessions",
    "operational_hours",
    "crashfree_hours",
    "unexpected_reboots",
    "expected_reboots",
    "battery_soc_drop",
    "battery_discharge_hours",
    "battery_intervals",
    "connected_hours",
    "connectivity_expected_hours",
)
FULL_CHARGE_PCT = 100.0


@dataclass(frozen=True)
class Stability:
    """The stability numbers of one group, each with its 95 % interval and sample."""

    group: object
    crash_free_hours: Estimate
    crash_free_sessions: Estimate
    crash_free_devices: Estimate
    mean_hours_between_unexpected_reboots: Estimate
    unexpected_reboots: int
    expected_reboots: int
    battery: dict
    connectivity: Estimate

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "crash_free_hours": self.crash_free_hours.as_dict(),
            "crash_free_sessions": self.crash_free_sessions.as_dict(),
            "crash_free_devices": self.crash_free_devices.as_dict(),
            "mean_hours_between_unexpected_reboots": (
                self.mean_hours_between_unexpected_reboots.as_dict()
            ),
            "unexpected_reboots": self.unexpected_reboots,
            "expected_reboots": self.expected_reboots,
            "battery": self.battery,
            "connectivity": self.connectivity.as_dict(),
        }


def stability_from_sums(group, sums: dict) -> Stability:
    """Crash-free devices over several days are device-days: a device is counted once
    per day it reported (the rollups keep no device sets across days)."""
    hours = sums["operational_hours"] or 0.0
    return Stability(
        group=group,
        crash_free_hours=wilson(sums["crashfree_hours"] or 0.0, hours),
        crash_free_sessions=wilson(
            (sums["sessions"] or 0) - (sums["crashed_sessions"] or 0), sums["sessions"] or 0
        ),
        crash_free_devices=wilson(
            (sums["devices"] or 0) - (sums["crashed_devices"] or 0), sums["devices"] or 0
        ),
        mean_hours_between_unexpected_reboots=mean_time_between(
            sums["unexpected_reboots"] or 0, hours
        ),
        unexpected_reboots=sums["unexpected_reboots"] or 0,
        expected_reboots=sums["expected_reboots"] or 0,
        battery=_battery(sums),
        # Connected hours out of expected hours, like crash-free hours out of hours.
        connectivity=wilson(
            sums["connected_hours"] or 0.0, sums["connectivity_expected_hours"] or 0.0
        ),
    )


def _battery(sums: dict) -> dict:
    """State-of-charge drop per hour of discharge, pooled over the intervals that
    discharged (a ratio of sums, so long intervals weigh more), and the hours a full charge
    lasts at that rate. The sample is hours of discharge and intervals."""
    hours = sums["battery_discharge_hours"] or 0.0
    drop = sums["battery_soc_drop"] or 0.0
    per_hour = drop / hours if hours else None
    return {
        "soc_drop_per_hour": per_hour,
        "projected_life_hours": FULL_CHARGE_PCT / per_hour if per_hour else None,
        "discharge_hours": hours,
        "intervals": sums["battery_intervals"] or 0,
    }


def stability_by(
    project: Project,
    group_by: str,
    *,
    since: date | None = None,
    until: date | None = None,
    **filters,
) -> list[Stability]:
    """Stability per software version, hardware version, cohort or day."""
    column = GROUPINGS[group_by]
    rows = StabilityDailyRollup.objects.filter(project=project, **filters)
    if since:
        rows = rows.filter(day__gte=since)
    if until:
        rows = rows.filter(day__lte=until)
    sums = rows.values(column).annotate(**{name: Sum(name) for name in SUMS}).order_by(column)
    return [stability_from_sums(row.pop(column), row) for row in sums]


def release_stability(project: Project, *, days: int = 30, limit: int = 5) -> list[dict]:
    """Stability cards for the newest software versions that reported in the window."""
    since = timezone.now().date() - timedelta(days=days)
    by_version = {s.group: s for s in stability_by(project, "software_version", since=since)}
    versions = _versions(project, [pk for pk in by_version if pk is not None])
    newest = sorted(versions.values(), key=lambda v: version_key(v.version), reverse=True)
    return [
        {"software_version": version, "stability": by_version[version.pk]}
        for version in newest[:limit]
    ]


def _versions(project: Project, ids: list[int]) -> dict:
    from dre.fleet.models import SoftwareVersion

    found = SoftwareVersion.objects.filter(software_type__project=project, pk__in=ids)
    return {v.pk: v for v in found.select_related("software_type")}


def stability_per_day(project: Project, *, days: int = 30) -> list[dict]:
    since = timezone.now().date() - timedelta(days=days)
    return [
        {"day": s.group.isoformat(), **s.as_dict(), "group": s.group.isoformat()}
        for s in stability_by(project, "day", since=since)
    ]


def active_devices(project: Project, *, days: int = 1) -> int:
    since = timezone.now() - timedelta(days=days)
    return Device.objects.filter(project=project, last_seen__gte=since).count()


def metric_daily(
    project: Project, metric: str, *, split_by: str = "software_version", days: int = 30
) -> list[dict]:
    """A metric's daily count, mean, min and max, split by version, hardware or cohort."""
    column = GROUPINGS[split_by]
    since = timezone.now().date() - timedelta(days=days)
    rows = (
        MetricDailyRollup.objects.filter(project=project, metric=metric, day__gte=since)
        .values("day", column)
        .annotate(n=Sum("count"), total=Sum("total"), low=Min("minimum"), high=Max("maximum"))
        .order_by("day", column)
    )
    return [
        {
            "day": row["day"].isoformat(),
            "group": row[column],
            "count": row["n"],
            "mean": row["total"] / row["n"] if row["n"] else None,
            "min": row["low"],
            "max": row["high"],
        }
        for row in rows
    ]


QUANTILES = (0.5, 0.9, 0.95, 0.99)


def metric_explore(
    project: Project,
    metric: str,
    *,
    split_by: str | None = "software_version",
    days: int = 30,
    **filters,
) -> list[dict]:
    """A metric per day (and group): count, sum, min, mean, max and percentiles (p50, p90,
    p95, p99 within the sketch's 1 % relative accuracy), merged from the daily rollups."""
    since = timezone.now().date() - timedelta(days=days)
    rows = MetricDailyRollup.objects.filter(
        project=project, metric=metric, day__gte=since, **filters
    ).values_list(
        "day",
        GROUPINGS[split_by] if split_by else "day",
        "count",
        "total",
        "minimum",
        "maximum",
        "sketch",
    )
    merged: dict[tuple, list] = {}
    for day, group, count, total, low, high, buckets in rows:
        slot = merged.setdefault((day, group if split_by else None), [0, 0.0, low, high, []])
        slot[0] += count
        slot[1] += total
        slot[2], slot[3] = min(slot[2], low), max(slot[3], high)
        slot[4].append(buckets)
    return [
        _explored(day, group, *slot) for (day, group), slot in sorted(merged.items(), key=_order)
    ]


def _order(item):
    (day, group), _ = item
    return day, str(group)


def _explored(day, group, count, total, low, high, buckets) -> dict:
    found = sketch.quantiles(sketch.merge(buckets), QUANTILES)
    return {
        "day": day.isoformat(),
        "group": group,
        "count": count,
        "sum": total,
        "min": low,
        "mean": total / count if count else None,
        "max": high,
        **{f"p{round(q * 100)}": found[q] for q in QUANTILES},
    }


def group_labels(project: Project, split_by: str | None, ids) -> dict:
    """Names for the ids a split groups by: versions, hardware and cohorts by name."""
    from dre.fleet.models import Cohort, HardwareVersion, SoftwareVersion

    ids = [pk for pk in ids if pk is not None]
    if split_by == "software_version":
        found = SoftwareVersion.objects.filter(software_type__project=project, pk__in=ids)
        return {v.pk: str(v) for v in found.select_related("software_type")}
    if split_by == "hardware_version":
        return {h.pk: h.name for h in HardwareVersion.objects.filter(pk__in=ids)}
    if split_by == "cohort":
        return {c.pk: c.name for c in Cohort.objects.filter(project=project, pk__in=ids)}
    return {}


def device_metric_values(device: Device) -> list:
    """The device's attribute metrics with their latest values."""
    return list(
        DeviceMetricValue.objects.filter(project_id=device.project_id, device=device).order_by(
            "key"
        )
    )


def metrics_of(project: Project):
    return Metric.objects.filter(project=project).order_by("key")


# What a timeline shows of an interval: not its values (20 metrics of JSON per row to
# decode), which the charts read on their own (device_metric_series_json).
TIMELINE_FIELDS = ("id", "project_id", "device_id", "ended", "session", "duration_ms", "state")


def device_intervals(device: Device, *, limit: int = 200):
    return (
        HeartbeatInterval.objects.filter(project_id=device.project_id, device=device)
        .only(*TIMELINE_FIELDS)
        .order_by("-ended")[:limit]
    )


def device_reboots(device: Device, *, limit: int = 200):
    return Reboot.objects.filter(project_id=device.project_id, device=device).order_by("-time")[
        :limit
    ]


def device_metric_series(device: Device, *, limit: int = 200) -> dict[str, list]:
    """Each numeric metric of the device's recent intervals as [time, value] points."""
    return json.loads(device_metric_series_json(device, limit=limit))


# The series of device_metric_series, built by PostgreSQL as JSON text: a page embeds it
# as it comes, with no Python loop over some 4,000 values (200 intervals x 20 metrics)
# and no encoding. Keys ordered as jsonb orders an object's keys (length, then bytes),
# which is the order the Python loop met them in.
SERIES_SQL = """
SELECT coalesce(json_object_agg(s.key, s.points ORDER BY length(s.key), s.key), '{}')::text
FROM (
    SELECT v.key, json_agg(json_build_array(r.ended, v.value) ORDER BY r.ended) AS points
    FROM (
        SELECT ended, "values" FROM health_heartbeatinterval
        WHERE project_id = %s AND device_id = %s ORDER BY ended DESC LIMIT %s
    ) AS r, jsonb_each(r."values") AS v
    WHERE jsonb_typeof(v.value) = 'number'
    GROUP BY v.key
) AS s
"""


def device_metric_series_json(device: Device, *, limit: int = 200) -> str:
    """device_metric_series as JSON text (an object of metric key to points)."""
    if connection.vendor != "postgresql":  # SQLite, for development: built in Python
        return json.dumps(_series_python(device, limit))
    with connection.cursor() as cursor:
        cursor.execute(SERIES_SQL, [device.project_id, device.pk, limit])
        return cursor.fetchone()[0]


def _series_python(device: Device, limit: int) -> dict[str, list]:
    rows = (
        HeartbeatInterval.objects.filter(project_id=device.project_id, device=device)
        .order_by("-ended")
        .values_list("ended", "values")[:limit]
    )
    series: dict[str, list] = {}
    for ended, values in reversed(list(rows)):
        when = ended.isoformat()
        for key, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                series.setdefault(key, []).append([when, value])
    return series


def reboot_reasons(project: Project, *, days: int = 30) -> list[dict]:
    since = timezone.now().date() - timedelta(days=days)
    return list(
        Reboot.objects.filter(project=project, day__gte=since)
        .values("reason", "reason_name", "unexpected")
        .annotate(count=Count("id"))
        .order_by("-count")
    )


def metric_values(
    project_id: int,
    key: str,
    *,
    since,
    until,
    cohort_id: int | None = None,
    software_version_id: int | None = None,
) -> list[tuple[int, float]]:
    """(device id, value) of every resolved interval that ended in (since, until] and
    carries a number for `key`: what a fleet threshold aggregates."""
    from django.db.models.fields.json import KeyTransform

    rows = HeartbeatInterval.objects.filter(
        project_id=project_id,
        state=HeartbeatInterval.State.RESOLVED,
        ended__gt=since,
        ended__lte=until,
    )
    if cohort_id:
        rows = rows.filter(cohort_id=cohort_id)
    if software_version_id:
        rows = rows.filter(software_version_id=software_version_id)
    found = rows.annotate(value=KeyTransform(key, "values")).values_list("device_id", "value")
    return [
        (device_id, float(value))
        for device_id, value in found.iterator(chunk_size=5000)
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]

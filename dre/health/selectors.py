"""Reads for fleet health. Fleet-wide numbers come from the daily rollups only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Device
from dre.fleet.versions import version_key
from dre.health.models import (
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
)


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
    )


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


def metrics_of(project: Project):
    return Metric.objects.filter(project=project).order_by("key")


def device_intervals(device: Device, *, limit: int = 200):
    return (
        HeartbeatInterval.objects.filter(project_id=device.project_id, device=device)
        .select_related("software_version__software_type")
        .order_by("-ended")[:limit]
    )


def device_reboots(device: Device, *, limit: int = 200):
    return Reboot.objects.filter(project_id=device.project_id, device=device).order_by("-time")[
        :limit
    ]


def device_metric_series(device: Device, *, limit: int = 200) -> dict[str, list]:
    """Each numeric metric of the device's recent intervals as [time, value] points."""
    series: dict[str, list] = {}
    for interval in reversed(list(device_intervals(device, limit=limit))):
        for key, value in interval.values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                series.setdefault(key, []).append([interval.ended.isoformat(), value])
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

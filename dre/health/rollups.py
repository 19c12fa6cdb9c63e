"""Daily rollups: recompute one project's day from its raw rows, idempotently.

A day is recomputed whole (delete, then insert) rather than incremented, so a late or
re-sent heartbeat can never be counted twice: the raw row is unique, and the rollup is a
pure function of the raw rows. Fleet queries then read only the rollups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from dre.health.metrics import (
    OPERATIONAL_CRASHES,
    OPERATIONAL_CRASHFREE_HOURS,
    OPERATIONAL_HOURS,
    UNEXPECTED_REBOOTS,
)
from dre.health.models import (
    DirtyDay,
    HeartbeatInterval,
    MetricDailyRollup,
    Reboot,
    StabilityDailyRollup,
)
from dre.health.services import METRIC_KEY_LENGTH

HOUR_MS = 3_600_000
# The session whose intervals cover the device's whole uptime; other sessions overlap it
# and count as sessions but not as hours (memfault-elf-metadata.md, "Sessions").
HEARTBEAT_SESSIONS = {"heartbeat", ""}


@dataclass
class _Stability:
    devices: set = field(default_factory=set)
    crashed_devices: set = field(default_factory=set)
    sessions: int = 0
    crashed_sessions: int = 0
    operational_hours: float = 0.0
    crashfree_hours: float = 0.0
    expected_reboots: int = 0
    reboots_by_device: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


@dataclass
class _Values:
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)


def rollup_day(project_id: int, day: date) -> None:
    """(Re)compute every rollup of the day. Holding the day's mark locked serializes two
    workers on one day; a mark made meanwhile by a new heartbeat survives for the next run."""
    with transaction.atomic():
        marks = DirtyDay.objects.select_for_update().filter(project_id=project_id, day=day)
        list(marks)
        groups, metrics = _compute(project_id, day)
        MetricDailyRollup.objects.filter(project_id=project_id, day=day).delete()
        StabilityDailyRollup.objects.filter(project_id=project_id, day=day).delete()
        _store(project_id, day, groups, metrics)
        marks.delete()


def rollup_dirty_days(limit: int = 100) -> int:
    """Recompute the days marked dirty, oldest mark first."""
    pending = list(DirtyDay.objects.order_by("marked").values_list("project_id", "day")[:limit])
    for project_id, day in pending:
        rollup_day(project_id, day)
    return len(pending)


def _compute(project_id: int, day: date):
    groups: dict[tuple, _Stability] = defaultdict(_Stability)
    metrics: dict[tuple, _Values] = defaultdict(_Values)
    reboots = _reboots(project_id, day, groups)
    intervals = HeartbeatInterval.objects.filter(
        project_id=project_id, day=day, state=HeartbeatInterval.State.RESOLVED
    ).values_list(
        "device_id",
        "software_version_id",
        "hardware_version_id",
        "cohort_id",
        "session",
        "started",
        "ended",
        "duration_ms",
        "values",
    )
    for device_id, sv, hv, cohort, session, started, ended, duration_ms, values in intervals:
        group = (sv, hv, cohort)
        _add_values(metrics, group, values)
        crashes = _interval_crashes(values, reboots.get(device_id, []), started, ended)
        _add_interval(groups[group], device_id, session, duration_ms, values, crashes)
    return groups, metrics


def _reboots(project_id: int, day: date, groups) -> dict[int, list]:
    """Unexpected reboot times per device, and each reboot counted into its group."""
    times = defaultdict(list)
    rows = Reboot.objects.filter(project_id=project_id, day=day).values_list(
        "device_id",
        "software_version_id",
        "hardware_version_id",
        "cohort_id",
        "time",
        "time_known",
        "unexpected",
    )
    for device_id, sv, hv, cohort, time, time_known, unexpected in rows:
        stability = groups[(sv, hv, cohort)]
        stability.devices.add(device_id)
        if not unexpected:
            stability.expected_reboots += 1
            continue
        stability.crashed_devices.add(device_id)
        stability.reboots_by_device[device_id][0] += 1
        if time_known:
            times[device_id].append(time)
    return times


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _add_values(metrics, group: tuple, values: dict) -> None:
    for key, value in values.items():
        number = _number(value)
        if number is not None and len(key) <= METRIC_KEY_LENGTH:
            metrics[(*group, key)].add(number)


def _interval_crashes(values: dict, reboot_times: list, started, ended) -> int:
    """The interval's unexpected reboots: the SDK's counter when it sent one, else the
    unexpected reboot events that fall inside the interval."""
    for key in (UNEXPECTED_REBOOTS, OPERATIONAL_CRASHES):
        if _number(values.get(key)) is not None:
            return int(values[key])
    return sum(1 for time in reboot_times if started < time <= ended)


def _add_interval(stability: _Stability, device_id, session, duration_ms, values, crashes):
    stability.devices.add(device_id)
    stability.sessions += 1
    if crashes:
        stability.crashed_sessions += 1
        stability.crashed_devices.add(device_id)
    if session not in HEARTBEAT_SESSIONS:
        return
    # Only the heartbeat session spans all uptime: a crash that ended a user session is
    # also counted by the heartbeat after it, so counting both would double the reboot.
    stability.reboots_by_device[device_id][1] += crashes
    hours = _number(values.get(OPERATIONAL_HOURS))
    if hours is not None:
        stability.operational_hours += hours
        stability.crashfree_hours += _number(values.get(OPERATIONAL_CRASHFREE_HOURS)) or 0.0
    else:
        stability.operational_hours += duration_ms / HOUR_MS
        stability.crashfree_hours += 0.0 if crashes else duration_ms / HOUR_MS


def _store(project_id: int, day: date, groups, metrics) -> None:
    StabilityDailyRollup.objects.bulk_create(
        [_stability_row(project_id, day, group, s) for group, s in groups.items()]
    )
    MetricDailyRollup.objects.bulk_create(
        [
            MetricDailyRollup(
                project_id=project_id,
                day=day,
                software_version_id=sv,
                hardware_version_id=hv,
                cohort_id=cohort,
                metric=key,
                count=v.count,
                total=v.total,
                minimum=v.minimum,
                maximum=v.maximum,
            )
            for (sv, hv, cohort, key), v in metrics.items()
        ]
    )


def _stability_row(project_id, day, group, s: _Stability) -> StabilityDailyRollup:
    sv, hv, cohort = group
    # A reboot both sent as an event and counted by the SDK's counter is one reboot.
    unexpected = sum(max(events, counted) for events, counted in s.reboots_by_device.values())
    return StabilityDailyRollup(
        project_id=project_id,
        day=day,
        software_version_id=sv,
        hardware_version_id=hv,
        cohort_id=cohort,
        devices=len(s.devices),
        crashed_devices=len(s.crashed_devices),
        sessions=s.sessions,
        crashed_sessions=s.crashed_sessions,
        operational_hours=s.operational_hours,
        crashfree_hours=s.crashfree_hours,
        unexpected_reboots=unexpected,
        expected_reboots=s.expected_reboots,
    )

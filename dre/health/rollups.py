"""Daily rollups: recompute one project's day from its raw rows, idempotently.

A day is recomputed whole (delete, then insert) rather than incremented, so a late or
re-sent heartbeat can never be counted twice: the raw row is unique, and the rollup is a
pure function of the raw rows. Fleet queries then read only the rollups.

The day's rows are selected by `ended` within the UTC day (the same day as the `day`
column), which on PostgreSQL reads exactly one partition (partitions.py). Metric values are
aggregated inside PostgreSQL (jsonb_each, one pass, buckets of the sketch included) and in
Python on SQLite; the stability sums read only the handful of keys they need.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F

from dre.health import partitions, sketch
from dre.health.metrics import (
    BATTERY_DISCHARGE_MS,
    BATTERY_SOC_DROP,
    CONNECTED_MS,
    CONNECTIVITY_EXPECTED_MS,
    OPERATIONAL_CRASHES,
    OPERATIONAL_CRASHFREE_HOURS,
    OPERATIONAL_HOURS,
    UNEXPECTED_REBOOTS,
)
from dre.health.models import (
    DirtyDay,
    HeartbeatInterval,
    Metric,
    MetricDailyRollup,
    Reboot,
    StabilityDailyRollup,
)
from dre.health.services import METRIC_KEY_LENGTH

HOUR_MS = 3_600_000
COUNTERS = (UNEXPECTED_REBOOTS, OPERATIONAL_CRASHES)
# The session whose intervals cover the device's whole uptime; other sessions overlap it
# and count as sessions but not as hours (memfault-elf-metadata.md, "Sessions").
HEARTBEAT_SESSIONS = {"heartbeat", ""}
# The keys the stability sums read, fetched as columns instead of whole value maps.
STABILITY_KEYS = (
    UNEXPECTED_REBOOTS,
    OPERATIONAL_CRASHES,
    OPERATIONAL_HOURS,
    OPERATIONAL_CRASHFREE_HOURS,
    BATTERY_SOC_DROP,
    BATTERY_DISCHARGE_MS,
    CONNECTED_MS,
    CONNECTIVITY_EXPECTED_MS,
)


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
    battery_soc_drop: float = 0.0
    battery_discharge_hours: float = 0.0
    battery_intervals: int = 0
    connected_hours: float = 0.0
    connectivity_expected_hours: float = 0.0


@dataclass
class _Values:
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")
    buckets: Counter = field(default_factory=Counter)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.buckets[sketch.bucket(value)] += 1

    def add_bucket(self, key: str, count: int, total: float, low: float, high: float) -> None:
        self.count += count
        self.total += total
        self.minimum = min(self.minimum, low)
        self.maximum = max(self.maximum, high)
        self.buckets[key] += count


def rollup_day(project_id: int, day: date) -> None:
    """(Re)compute every rollup of the day. Holding the day's mark locked serializes two
    workers on one day; a mark made meanwhile by a new heartbeat survives for the next run."""
    with transaction.atomic():
        marks = DirtyDay.objects.select_for_update().filter(project_id=project_id, day=day)
        list(marks)
        if partitions.expired(day):
            # The raw rows of the day are gone by retention; its rollups are all that is
            # left, and a straggler must not replace them with its own numbers.
            marks.delete()
            return
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


def _day_rows(project_id: int, day: date):
    low = datetime.combine(day, time(), tzinfo=UTC)
    return HeartbeatInterval.objects.filter(
        project_id=project_id,
        ended__gte=low,
        ended__lt=low + timedelta(days=1),
        state=HeartbeatInterval.State.RESOLVED,
    )


def _compute(project_id: int, day: date):
    groups: dict[tuple, _Stability] = defaultdict(_Stability)
    reboots = _reboots(project_id, day, groups)
    if connection.vendor == "postgresql":
        rows = _stability_sql(project_id, day, groups)
    else:
        rows = _stability_rows(project_id, day)
    for device_id, sv, hv, cohort, session, started, ended, duration_ms, *picked in rows:
        values = dict(zip(STABILITY_KEYS, picked, strict=True))
        crashes = _interval_crashes(values, reboots.get(device_id, []), started, ended)
        _add_interval(groups[(sv, hv, cohort)], device_id, session, duration_ms, values, crashes)
    return groups, _metric_values(project_id, day)


def _stability_rows(project_id: int, day: date):
    return _day_rows(project_id, day).values_list(
        "device_id",
        "software_version_id",
        "hardware_version_id",
        "cohort_id",
        "session",
        "started",
        "ended",
        "duration_ms",
        *[F(f"values__{key}") for key in STABILITY_KEYS],
    )


def _num(key: str) -> str:
    return (
        f"CASE WHEN jsonb_typeof(\"values\" -> '{key}') = 'number' "
        f"THEN (\"values\" -> '{key}')::float8 END"
    )


# The same sums as _add_interval, per device and group, for the intervals that carry the
# SDK's crash counter (every SDK since 0.37): one pass inside PostgreSQL instead of a
# Python loop over every row. Intervals without a counter need the reboot events' times
# and go through _add_interval one by one (the second query).
STABILITY_SQL = f"""
WITH v AS (
    SELECT device_id, software_version_id AS sv, hardware_version_id AS hv, cohort_id AS c,
           session IN ('heartbeat', '') AS main, session, started, ended, duration_ms,
           COALESCE({_num(UNEXPECTED_REBOOTS)}, {_num(OPERATIONAL_CRASHES)}) AS crashes,
           {_num(OPERATIONAL_HOURS)} AS oh, {_num(OPERATIONAL_CRASHFREE_HOURS)} AS cfh,
           {_num(BATTERY_SOC_DROP)} AS soc_drop, {_num(BATTERY_DISCHARGE_MS)} AS discharge,
           {_num(CONNECTED_MS)} AS connected, {_num(CONNECTIVITY_EXPECTED_MS)} AS expected
    FROM health_heartbeatinterval
    WHERE project_id = %(project)s AND ended >= %(low)s AND ended < %(high)s
      AND state = 'resolved'
)
SELECT device_id, sv, hv, c, count(*), count(*) FILTER (WHERE trunc(crashes) > 0),
       sum(trunc(crashes)), sum(CASE WHEN main THEN trunc(crashes) ELSE 0 END),
       sum(CASE WHEN main THEN COALESCE(oh, duration_ms / 3600000.0) ELSE 0 END),
       sum(CASE WHEN NOT main THEN 0 WHEN oh IS NOT NULL THEN COALESCE(cfh, 0)
                WHEN trunc(crashes) > 0 THEN 0 ELSE duration_ms / 3600000.0 END),
       sum(CASE WHEN main AND soc_drop IS NOT NULL AND discharge > 0 THEN soc_drop END),
       sum(CASE WHEN main AND soc_drop IS NOT NULL AND discharge > 0
                THEN discharge / 3600000.0 END),
       count(*) FILTER (WHERE main AND soc_drop IS NOT NULL AND discharge > 0),
       sum(CASE WHEN main AND connected IS NOT NULL AND expected > 0
                THEN LEAST(GREATEST(connected, 0), expected) / 3600000.0 END),
       sum(CASE WHEN main AND connected IS NOT NULL AND expected > 0
                THEN expected / 3600000.0 END)
FROM v WHERE crashes IS NOT NULL GROUP BY 1, 2, 3, 4
"""
UNCOUNTED_SQL = f"""
SELECT device_id, software_version_id, hardware_version_id, cohort_id, session, started,
       ended, duration_ms, {", ".join(_num(key) for key in STABILITY_KEYS)}
FROM health_heartbeatinterval
WHERE project_id = %(project)s AND ended >= %(low)s AND ended < %(high)s
  AND state = 'resolved'
  AND {_num(UNEXPECTED_REBOOTS)} IS NULL AND {_num(OPERATIONAL_CRASHES)} IS NULL
"""


def _stability_sql(project_id: int, day: date, groups) -> list:
    """Add the counted intervals' sums to the groups; return the uncounted intervals."""
    low = datetime.combine(day, time(), tzinfo=UTC)
    params = {"project": project_id, "low": low, "high": low + timedelta(days=1)}
    with connection.cursor() as cursor:
        cursor.execute(STABILITY_SQL, params)
        for device_id, sv, hv, cohort, *sums in cursor.fetchall():
            _add_device_sums(groups[(sv, hv, cohort)], device_id, *sums)
        cursor.execute(UNCOUNTED_SQL, params)
        return cursor.fetchall()


def _add_device_sums(s: _Stability, device_id, sessions, crashed, crashes, reboots, *hours):
    s.devices.add(device_id)
    s.sessions += sessions
    s.crashed_sessions += crashed
    if crashes:
        s.crashed_devices.add(device_id)
    # Reboots only from the heartbeat session (see _add_interval).
    s.reboots_by_device[device_id][1] += int(reboots or 0)
    operational, crashfree, soc_drop, discharge, intervals, connected, expected = hours
    s.operational_hours += operational or 0.0
    s.crashfree_hours += crashfree or 0.0
    s.battery_soc_drop += soc_drop or 0.0
    s.battery_discharge_hours += discharge or 0.0
    s.battery_intervals += intervals
    s.connected_hours += connected or 0.0
    s.connectivity_expected_hours += expected or 0.0


def _metric_values(project_id: int, day: date) -> dict[tuple, _Values]:
    """Numeric values of timeseries metrics by group and key."""
    if connection.vendor == "postgresql":
        metrics = _metric_values_sql(project_id, day)
    else:
        metrics = _metric_values_python(project_id, day)
    attributes_only = set(
        Metric.objects.filter(project_id=project_id, kind=Metric.Kind.ATTRIBUTE).values_list(
            "key", flat=True
        )
    )
    return {group: v for group, v in metrics.items() if group[3] not in attributes_only}


def _metric_values_python(project_id: int, day: date) -> dict[tuple, _Values]:
    metrics: dict[tuple, _Values] = defaultdict(_Values)
    rows = _day_rows(project_id, day).values_list(
        "software_version_id", "hardware_version_id", "cohort_id", "values"
    )
    for sv, hv, cohort, values in rows:
        for key, value in values.items():
            number = _number(value)
            if number is not None and len(key) <= METRIC_KEY_LENGTH:
                metrics[(sv, hv, cohort, key)].add(number)
    return metrics


# One pass over the day's partition: every numeric value, counted into its group, key and
# sketch bucket (sketch.bucket, written in SQL).
METRIC_VALUES_SQL = """
SELECT sv, hv, c, key, bucket, count(*), sum(x), min(x), max(x)
FROM (
    SELECT h.software_version_id AS sv, h.hardware_version_id AS hv, h.cohort_id AS c,
           kv.key, (kv.value)::float8 AS x,
           CASE WHEN abs((kv.value)::float8) < %(zero)s THEN 'z'
                ELSE (CASE WHEN (kv.value)::float8 > 0 THEN 'p' ELSE 'n' END)
                     || ceil(ln(abs((kv.value)::float8)) / %(log_gamma)s)::bigint::text
           END AS bucket
    FROM health_heartbeatinterval h CROSS JOIN LATERAL jsonb_each(h."values") kv
    WHERE h.project_id = %(project)s AND h.ended >= %(low)s AND h.ended < %(high)s
      AND h.state = 'resolved' AND jsonb_typeof(kv.value) = 'number'
      AND length(kv.key) <= %(key_length)s
) n
GROUP BY 1, 2, 3, 4, 5
"""


def _metric_values_sql(project_id: int, day: date) -> dict[tuple, _Values]:
    low = datetime.combine(day, time(), tzinfo=UTC)
    params = {
        "zero": sketch.ZERO_BELOW,
        "log_gamma": sketch.LOG_GAMMA,
        "project": project_id,
        "low": low,
        "high": low + timedelta(days=1),
        "key_length": METRIC_KEY_LENGTH,
    }
    metrics: dict[tuple, _Values] = defaultdict(_Values)
    with connection.cursor() as cursor:
        # Compiling these one-off aggregates costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(METRIC_VALUES_SQL, params)
        for sv, hv, cohort, key, bucket, count, total, low_value, high_value in cursor:
            metrics[(sv, hv, cohort, key)].add_bucket(bucket, count, total, low_value, high_value)
    return metrics


def _reboots(project_id: int, day: date, groups) -> dict[int, list]:
    """Each of the day's reboots counted into its group; returns the unexpected reboot
    times per device that the day's intervals may contain: an interval ending after
    midnight began the day before, and a reboot in its first hours is that day's row."""
    rows = Reboot.objects.filter(project_id=project_id, day=day).values_list(
        "device_id", "software_version_id", "hardware_version_id", "cohort_id", "unexpected"
    )
    for device_id, sv, hv, cohort, unexpected in rows:
        stability = groups[(sv, hv, cohort)]
        stability.devices.add(device_id)
        if not unexpected:
            stability.expected_reboots += 1
            continue
        stability.crashed_devices.add(device_id)
        stability.reboots_by_device[device_id][0] += 1
    times = defaultdict(list)
    known = Reboot.objects.filter(
        project_id=project_id,
        day__in=[day - timedelta(days=1), day],
        unexpected=True,
        time_known=True,
    ).values_list("device_id", "time")
    for device_id, when in known:
        times[device_id].append(when)
    return times


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _interval_crashes(values: dict, reboot_times: list, started, ended) -> int:
    """The interval's unexpected reboots: the SDK's counter when it sent one, else the
    unexpected reboot events that fall inside the interval."""
    for key in COUNTERS:
        if _number(values.get(key)) is not None:
            return int(values[key])
    return sum(1 for when in reboot_times if started < when <= ended)


def _counted(values: dict) -> bool:
    return any(_number(values.get(key)) is not None for key in COUNTERS)


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
    if _counted(values):
        # Crashes found from reboot events are those events, counted on their own day.
        stability.reboots_by_device[device_id][1] += crashes
    _add_hours(stability, duration_ms, values, crashes)
    _add_battery(stability, values)
    _add_connectivity(stability, values)


def _add_hours(stability: _Stability, duration_ms, values, crashes) -> None:
    hours = _number(values.get(OPERATIONAL_HOURS))
    if hours is not None:
        stability.operational_hours += hours
        stability.crashfree_hours += _number(values.get(OPERATIONAL_CRASHFREE_HOURS)) or 0.0
    else:
        stability.operational_hours += duration_ms / HOUR_MS
        stability.crashfree_hours += 0.0 if crashes else duration_ms / HOUR_MS


def _add_battery(stability: _Stability, values) -> None:
    """Only intervals that discharged and say by how much: charging time is no drain."""
    drop = _number(values.get(BATTERY_SOC_DROP))
    discharge_ms = _number(values.get(BATTERY_DISCHARGE_MS))
    if drop is None or not discharge_ms or discharge_ms <= 0:
        return
    stability.battery_soc_drop += drop
    stability.battery_discharge_hours += discharge_ms / HOUR_MS
    stability.battery_intervals += 1


def _add_connectivity(stability: _Stability, values) -> None:
    expected = _number(values.get(CONNECTIVITY_EXPECTED_MS))
    connected = _number(values.get(CONNECTED_MS))
    if connected is None or not expected or expected <= 0:
        return
    stability.connected_hours += min(max(connected, 0.0), expected) / HOUR_MS
    stability.connectivity_expected_hours += expected / HOUR_MS


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
                sketch=dict(v.buckets),
            )
            for (sv, hv, cohort, key), v in metrics.items()
        ],
        batch_size=1_000,
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
        battery_soc_drop=s.battery_soc_drop,
        battery_discharge_hours=s.battery_discharge_hours,
        battery_intervals=s.battery_intervals,
        connected_hours=s.connected_hours,
        connectivity_expected_hours=s.connectivity_expected_hours,
    )

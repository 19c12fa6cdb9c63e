"""A synthetic fleet for benchmarks and demos: devices on a few releases, each sending
hourly heartbeats with the SDK's built-in metrics and some of its own.

Rows are bulk-inserted straight into the health tables (the chunk endpoint's cost is
measured elsewhere); each release crashes at its own hourly rate, so the stability numbers
differ per release in a known way. On PostgreSQL `synthetic_fleet_copy` loads millions of
intervals with COPY, one day partition at a time: a partition filled while detached and
then attached builds its indexes and checks its foreign keys once, in bulk, instead of per
row.
"""

from __future__ import annotations

import json
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device
from dre.fleet.services import hardware_version_get, software_version_get
from dre.health import partitions
from dre.health.metrics import (
    BATTERY_DISCHARGE_MS,
    BATTERY_SOC_DROP,
    CONNECTED_MS,
    CONNECTIVITY_EXPECTED_MS,
    OPERATIONAL_CRASHFREE_HOURS,
    OPERATIONAL_HOURS,
    SDK_INTERVAL_MS,
    UNEXPECTED_REBOOTS,
)
from dre.health.models import DirtyDay, HeartbeatInterval, Metric
from dre.health.services import metrics_register

HOUR = timedelta(hours=1)
BATCH = 5_000


@dataclass(frozen=True)
class FleetShape:
    devices: int = 1_000
    intervals: int = 100  # hourly, per device, ending at the current hour
    metrics: int = 20  # per interval, the five built-ins included
    releases: tuple[tuple[str, float], ...] = (("1.0.0", 0.01), ("1.1.0", 0.004), ("1.2.0", 0.02))
    seed: int = 9


def synthetic_fleet(project: Project, shape: FleetShape) -> int:
    """Insert the fleet; returns the number of intervals."""
    rng = random.Random(shape.seed)
    devices = _devices(project, shape)
    versions = [software_version_get(project, "main", v) for v, _ in shape.releases]
    rates = [rate for _, rate in shape.releases]
    extra = _register(project, shape)
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows, count = [], 0
    for n, device in enumerate(devices):
        release = n % len(versions)
        for k in range(shape.intervals):
            ended = end - k * HOUR
            values = _values(rng, rates[release], extra)
            rows.append(_interval(project, device, versions[release], ended, values))
            if len(rows) >= BATCH:
                count += _flush(rows)
    count += _flush(rows)
    _days_dirty(project, {(end - k * HOUR).date() for k in range(shape.intervals)})
    return count


def _devices(project: Project, shape: FleetShape) -> list[Device]:
    cohorts = [
        Cohort.objects.get_or_create(project=project, slug=slug, defaults={"name": slug})[0]
        for slug in ("default", "beta", "field")
    ]
    boards = [hardware_version_get(project, f"evt_{n}") for n in range(3)]
    Device.objects.bulk_create(
        [
            Device(
                project=project,
                serial=f"synthetic-{n:06d}",
                hardware_version=boards[n % 3],
                cohort=cohorts[n % 3],
            )
            for n in range(shape.devices)
        ],
        ignore_conflicts=True,
    )
    return list(Device.objects.filter(project=project, serial__startswith="synthetic-"))


BUILTINS = 9  # the SDK's metrics _values sends besides the project's own


def _register(project: Project, shape: FleetShape) -> list[str]:
    extra = [f"metric_{n}" for n in range(max(shape.metrics - BUILTINS, 0))]
    metrics_register(project, {key: Metric.Type.GAUGE for key in extra})
    builtins = _values(random.Random(0), 0.0, [])
    metrics_register(project, {key: Metric.Type.UNSIGNED for key in builtins})
    return extra


def _values(rng: random.Random, rate: float, extra: list[str]) -> dict:
    """One hour: crashed at the release's rate; discharging for half of it, losing 2 to
    4 points of charge (6 points per hour of discharge: 16.7 hours of battery); connected
    90 % of the time."""
    crashed = rng.random() < rate
    values = {
        SDK_INTERVAL_MS: 3_600_000,
        UNEXPECTED_REBOOTS: int(crashed),
        OPERATIONAL_HOURS: 1,
        OPERATIONAL_CRASHFREE_HOURS: 0 if crashed else 1,
        "battery_soc_pct": int(5 + rng.random() * 95),
        BATTERY_SOC_DROP: 2 + int(rng.random() * 3),
        BATTERY_DISCHARGE_MS: 1_800_000,
        CONNECTED_MS: 3_240_000,
        CONNECTIVITY_EXPECTED_MS: 3_600_000,
    }
    values.update({key: int(rng.random() * 10_000) for key in extra})
    return values


def _interval(project, device, version, ended, values) -> HeartbeatInterval:
    return HeartbeatInterval(
        project=project,
        device=device,
        session_index=1,
        session="heartbeat",
        started=ended - HOUR,
        ended=ended,
        duration_ms=3_600_000,
        day=ended.date(),
        software_version=version,
        hardware_version_id=device.hardware_version_id,
        cohort_id=device.cohort_id,
        values=values,
    )


def _flush(rows: list) -> int:
    HeartbeatInterval.objects.bulk_create(rows, ignore_conflicts=True)
    count = len(rows)
    rows.clear()
    return count


COPY_COLUMNS = (
    "project_id, device_id, session_index, session, started, ended, duration_ms, day, "
    "software_version_id, hardware_version_id, cohort_id, build_id_prefix, values, "
    "positional, filtered, state, error, received"
)


def synthetic_fleet_copy(project: Project, shape: FleetShape, progress=None) -> int:
    """The same fleet as synthetic_fleet, loaded with COPY per day partition (PostgreSQL)."""
    from django.db import connection

    rng = random.Random(shape.seed)
    devices = _devices(project, shape)
    versions = [software_version_get(project, "main", v) for v, _ in shape.releases]
    extra = _register(project, shape)

    def fill(day, hours) -> int:
        return _copy_day(connection, project, day, hours, devices, versions, shape, rng, extra)

    return _fill_by_day(project, shape, fill, progress)


def _fill_by_day(project: Project, shape: FleetShape, fill, progress) -> int:
    """`fill(day, hours)` for each day of the shape's intervals, oldest first, then those
    days marked for the rollups; returns the intervals filled."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    by_day: dict = {}
    for k in range(shape.intervals):
        ended = end - k * HOUR
        by_day.setdefault(ended.date(), []).append(ended)
    count = 0
    for day, hours in sorted(by_day.items()):
        count += fill(day, hours)
        if progress:
            progress(day, count)
    _days_dirty(project, by_day)
    return count


def _days_dirty(project: Project, days) -> None:
    DirtyDay.objects.bulk_create(
        [DirtyDay(project=project, day=d) for d in days], ignore_conflicts=True
    )


@contextmanager
def _detached_partition(cursor, day):
    """A new table, named as the day's partition, to fill while it stands alone; attached
    as the day's partition once filled, so its indexes and foreign keys are checked once,
    in bulk."""
    name = partitions.partition_name(day)
    low, high = partitions._bounds(day)
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TABLE {name} (LIKE {partitions.TABLE} INCLUDING DEFAULTS)")
    yield name
    cursor.execute(
        f"ALTER TABLE {partitions.TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
        [low, high],
    )


def _copy_day(connection, project, day, hours, devices, versions, shape, rng, extra) -> int:
    rates = [rate for _, rate in shape.releases]
    with (
        connection.cursor() as cursor,
        _detached_partition(cursor, day) as name,
        cursor.copy(f"COPY {name} ({COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        for ended in hours:
            started = ended - HOUR
            for n, device in enumerate(devices):
                release = n % len(versions)
                values = _values(rng, rates[release], extra)
                copy.write_row(
                    (
                        project.pk,
                        device.pk,
                        1,
                        "heartbeat",
                        started,
                        ended,
                        3_600_000,
                        day,
                        versions[release].pk,
                        device.hardware_version_id,
                        device.cohort_id,
                        "",
                        json.dumps(values),
                        "[]",
                        "{}",
                        "resolved",
                        "",
                        ended,
                    )
                )
    return len(hours) * len(devices)


def synthetic_fleet_generated(project: Project, shape: FleetShape, progress=None) -> int:
    """The same fleet shape generated inside PostgreSQL, one day partition at a time.

    For tens of millions of rows, producing them in Python and streaming them over COPY is
    bound by the Python side (about 2,000 rows/s on a loaded 2-core machine); PostgreSQL
    makes the same rows with generate_series and random() at the speed of INSERT. Values
    follow _values: the releases' crash rates, battery and connectivity alike; the random
    stream is PostgreSQL's, not the seeded one.
    """
    from django.db import connection

    _devices(project, shape)
    versions = [software_version_get(project, "main", v) for v, _ in shape.releases]
    extra = _register(project, shape)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS synthetic_device")
        cursor.execute(
            "CREATE TEMPORARY TABLE synthetic_device AS SELECT id, hardware_version_id, "
            "cohort_id, (row_number() OVER (ORDER BY id) - 1) %% %s AS release "
            "FROM fleet_device WHERE project_id = %s AND serial LIKE 'synthetic-%%'",
            [len(versions), project.pk],
        )

    def fill(day, hours) -> int:
        return _generate_day(connection, project, day, hours, versions, shape, extra)

    return _fill_by_day(project, shape, fill, progress)


def _generated_values(extra: list[str]) -> str:
    """jsonb_build_object(...) of one interval, `crashed` and `r` being per-row columns."""
    pairs = [
        f"'{SDK_INTERVAL_MS}', 3600000",
        f"'{UNEXPECTED_REBOOTS}', crashed",
        f"'{OPERATIONAL_HOURS}', 1",
        f"'{OPERATIONAL_CRASHFREE_HOURS}', 1 - crashed",
        "'battery_soc_pct', 5 + floor(random() * 95)::int",
        f"'{BATTERY_SOC_DROP}', 2 + floor(random() * 3)::int",
        f"'{BATTERY_DISCHARGE_MS}', 1800000",
        f"'{CONNECTED_MS}', 3240000",
        f"'{CONNECTIVITY_EXPECTED_MS}', 3600000",
    ]
    pairs += [f"'{key}', floor(random() * 10000)::int" for key in extra]
    # jsonb_build_object takes at most 100 arguments: 20 metrics are 40.
    return "jsonb_build_object(" + ", ".join(pairs) + ")"


def _generate_day(connection, project, day, hours, versions, shape, extra) -> int:
    rates = " ".join(f"WHEN {n} THEN {rate}" for n, (_, rate) in enumerate(shape.releases))
    version_ids = " ".join(f"WHEN {n} THEN {v.pk}" for n, v in enumerate(versions))
    with connection.cursor() as cursor, _detached_partition(cursor, day) as name:
        cursor.execute(
            f"""
            INSERT INTO {name} ({COPY_COLUMNS})
            SELECT %(project)s, d.id, 1, 'heartbeat', h - interval '1 hour', h, 3600000,
                   %(day)s, CASE d.release {version_ids} END, d.hardware_version_id,
                   d.cohort_id, '', {_generated_values(extra)}, '[]', '{{}}', 'resolved', '', h
            FROM synthetic_device d
            CROSS JOIN unnest(%(hours)s::timestamptz[]) h
            CROSS JOIN LATERAL (
                SELECT (random() < CASE d.release {rates} END)::int AS crashed
                OFFSET 0
            ) c
            """,
            {"project": project.pk, "day": day, "hours": hours},
        )
    return len(hours) * len(shape_devices(shape))


def shape_devices(shape: FleetShape) -> range:
    return range(shape.devices)

"""A synthetic fleet for benchmarks and demos: devices on a few releases, each sending
hourly heartbeats with the SDK's built-in metrics and some of its own.

Rows are bulk-inserted straight into the health tables (the chunk endpoint's cost is
measured elsewhere); each release crashes at its own hourly rate, so the stability numbers
differ per release in a known way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device
from dre.fleet.services import hardware_version_get, software_version_get
from dre.health.metrics import (
    OPERATIONAL_CRASHFREE_HOURS,
    OPERATIONAL_HOURS,
    SDK_INTERVAL_MS,
    UNEXPECTED_REBOOTS,
)
from dre.health.models import DirtyDay, HeartbeatInterval, Metric

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
    extra = [f"metric_{n}" for n in range(max(shape.metrics - 5, 0))]
    Metric.objects.bulk_create(
        [Metric(project=project, key=k, display_name=k) for k in extra], ignore_conflicts=True
    )
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
    days = {(end - k * HOUR).date() for k in range(shape.intervals)}
    DirtyDay.objects.bulk_create(
        [DirtyDay(project=project, day=d) for d in days], ignore_conflicts=True
    )
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


def _values(rng: random.Random, rate: float, extra: list[str]) -> dict:
    crashed = rng.random() < rate
    values = {
        SDK_INTERVAL_MS: 3_600_000,
        UNEXPECTED_REBOOTS: int(crashed),
        OPERATIONAL_HOURS: 1,
        OPERATIONAL_CRASHFREE_HOURS: 0 if crashed else 1,
        "battery_soc_pct": rng.randint(5, 100),
    }
    values.update({key: rng.randint(0, 10_000) for key in extra})
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

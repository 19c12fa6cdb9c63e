"""Metric alert figures in PostgreSQL: what a device threshold adds to every heartbeat,
and how long a fleet threshold's evaluation takes over a synthetic fleet.

    .venv/bin/python bench/alerts/run.py [--heartbeats 600] [--devices 2000] [--intervals 48]

Creates its own database (dre_alerts_bench on the server of DATABASE_URL). Tasks run
in-process right after each commit (no broker), so a heartbeat's time below includes its
device evaluations. Baselines are measured in the same run: the heartbeat with no
monitor, and the fleet read (`metric_values`) without the evaluation around it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import scratch_database, summary  # noqa: E402

DAY_START = 1_764_806_400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heartbeats", type=int, default=600)
    parser.add_argument("--devices", type=int, default=2_000)
    parser.add_argument("--intervals", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", default="dre_alerts_bench")
    args = parser.parse_args()
    with scratch_database(args.database):
        _run(args)


def _heartbeats(project, count: int, offset_hours: int) -> list[float]:
    """Record `count` named heartbeats, 20 devices round-robin, hourly per device, each
    in its own transaction as the chunk endpoint does; seconds per heartbeat."""
    from django.db import transaction

    from dre.fleet.services import device_seen, software_version_get
    from dre.health.services import health_event_record
    from dre.ingest import wire

    devices = [device_seen(project, f"bench-{n}") for n in range(20)]
    version = software_version_get(project, "main", "1.0.0")
    samples = []
    for n in range(count):
        device = devices[n % len(devices)]
        hour = offset_hours + n // len(devices)
        values = {"MemfaultSdkMetric_IntervalMs": 3_600_000, "battery_temp": 40 + (n % 7) * 5}
        event = wire.Event(
            type=1,
            schema_version=1,
            info=wire.Heartbeat(session_index=None, metrics=values),
            captured_at=DAY_START + hour * 3600,
        )
        started = time.perf_counter()
        with transaction.atomic():
            health_event_record(
                project, device, event, event_id=n, software_version=version, hardware_version=None
            )
        samples.append(time.perf_counter() - started)
    return samples


def _run(args) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from dre.accounts.services import organization_create, project_create
    from dre.health import selectors
    from dre.health.synthetic import FleetShape, synthetic_fleet
    from dre.monitors import services, tasks
    from dre.monitors.models import Incident, Monitor

    organization = organization_create(slug="bench", name="Bench")
    project = project_create(organization=organization, slug="fleet", name="Fleet")

    # The evaluations a heartbeat queues run in a worker, not in the device's request:
    # collect them here and time them apart.
    queued: list[tuple[int, int]] = []
    tasks.evaluate_device.delay_on_commit = lambda *pair: queued.append(pair)
    baseline = _heartbeats(project, args.heartbeats, offset_hours=0)
    print(f"heartbeat request, no monitor: {summary(baseline)}")
    for count in (1, 5):
        for n in range(count):
            services.monitor_save(
                Monitor(project=project, kind="device", name=f"hot {count}/{n}",
                        metric_key="battery_temp", operator=">", threshold=60 + n,
                        start_delay_seconds=2 * 3600, end_delay_seconds=2 * 3600)
            )  # fmt: skip
        queued.clear()
        samples = _heartbeats(project, args.heartbeats, offset_hours=1000 * count)
        ratio = statistics.median(samples) / statistics.median(baseline)
        print(f"heartbeat request, {count} device monitor(s): {summary(samples)} ({ratio:.2f}x)")
        evaluations = []
        for pair in queued:
            started = time.perf_counter()
            services.device_evaluate(*pair)
            evaluations.append(time.perf_counter() - started)
        rate = len(evaluations) / sum(evaluations)
        print(f"  device evaluations ({len(evaluations)}): {summary(evaluations)}, {rate:.0f}/s")
        Monitor.objects.filter(project=project).delete()
    print(f"incidents opened: {Incident.objects.count()}")

    fleet = project_create(organization=organization, slug="big", name="Big")
    started = time.perf_counter()
    shape = FleetShape(devices=args.devices, intervals=args.intervals, metrics=8)
    rows = synthetic_fleet(fleet, shape)
    print(f"inserted {rows:,} intervals in {time.perf_counter() - started:.1f} s")
    monitor = services.monitor_save(
        Monitor(project=fleet, kind="fleet", name="battery", metric_key="battery_soc_pct",
                aggregate="p95", operator="<", threshold=10, window_seconds=24 * 3600)
    )  # fmt: skip
    now = timezone.now()
    since = now - timedelta(seconds=monitor.window_seconds)
    reads, evaluations = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        values = selectors.metric_values(fleet.pk, "battery_soc_pct", since=since, until=now)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        services.fleet_evaluate(monitor.pk, now=now)
        evaluations.append(time.perf_counter() - started)
    ratio = statistics.median(evaluations) / statistics.median(reads)
    print(f"fleet window: {len(values):,} intervals of {args.devices:,} devices, 24 h")
    print(f"fleet read (metric_values): {summary(reads)}")
    print(f"fleet evaluation (p95 aggregate): {summary(evaluations)} ({ratio:.2f}x the read)")


if __name__ == "__main__":
    main()

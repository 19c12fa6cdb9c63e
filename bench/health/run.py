"""Fleet health figures on a synthetic fleet in PostgreSQL.

    .venv/bin/python bench/health/run.py [--devices 2000] [--intervals 100] [--requests 20]
        [--keep] [--database NAME]

Creates its own database (dre_fleet_health_bench on the server of DATABASE_URL), loads the
fleet of dre.health.synthetic with COPY, one day partition at a time, times the rollup of
every day, then the fleet queries (crash-free hours per software version over 30 days with
intervals; a metric's daily mean by cohort; the explorer's percentiles) and the overview,
explorer and device pages, printing median and p95. Figures, not tests.

With --keep the database is kept afterwards and, when it already holds a fleet, reused
without loading: 10 million intervals take a long while to load, once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import percentile_95, scratch_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2_000)
    parser.add_argument("--intervals", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", default="dre_fleet_health_bench")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--load-only", action="store_true", help="stop after loading")
    parser.add_argument(
        "--skip-rollup", action="store_true", help="time the queries on the rollups as they are"
    )
    parser.add_argument(
        "--generate", action="store_true", help="generate rows in PostgreSQL instead of COPY"
    )
    args = parser.parse_args()
    with scratch_database(args.database, keep=args.keep, reuse=args.keep):
        _run(args)


def _run(args) -> None:
    from dre.accounts.models import Project, Role
    from dre.accounts.services import membership_set, organization_create, project_create
    from dre.health import selectors

    project = Project.objects.filter(slug="fleet").first()
    if project is None:
        organization = organization_create(slug="bench", name="Bench")
        project = project_create(organization=organization, slug="fleet", name="Fleet")
        _load(project, args)
    if args.load_only:
        return
    if not args.skip_rollup:
        _rollup()
    from django.contrib.auth.models import User
    from django.test import Client

    user, created = User.objects.get_or_create(username="bench")
    if created:
        membership_set(user=user, organization=project.organization, role=Role.VIEWER)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    timings = {
        "crash-free hours per version, 30 days": lambda: selectors.stability_by(
            project, "software_version"
        ),
        "daily mean of a metric by cohort": lambda: selectors.metric_daily(
            project, "battery_soc_pct", split_by="cohort"
        ),
        "metric percentiles by version, 30 days": lambda: selectors.metric_explore(
            project, "metric_3", split_by="software_version"
        ),
        "overview page": lambda: _page(client, "/bench/fleet/health/"),
        "metrics explorer page": lambda: _page(
            client, "/bench/fleet/health/metrics/?metric=battery_soc_pct&split_by=cohort"
        ),
        "device page": lambda: _page(client, "/bench/fleet/devices/synthetic-000001/"),
    }
    for name, call in timings.items():
        call()
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        median = statistics.median(samples)
        print(f"{name:45s} median {median:7.1f} ms  p95 {percentile_95(samples):7.1f} ms")


def _load(project, args) -> None:
    from dre.health.synthetic import (
        FleetShape,
        synthetic_fleet_copy,
        synthetic_fleet_generated,
    )

    started = time.perf_counter()

    def progress(day, count):
        elapsed = time.perf_counter() - started
        print(f"  {day}: {count:,} intervals after {elapsed:.0f} s", flush=True)

    shape = FleetShape(devices=args.devices, intervals=args.intervals)
    load = synthetic_fleet_generated if args.generate else synthetic_fleet_copy
    count = load(project, shape, progress=progress)
    elapsed = time.perf_counter() - started
    print(f"loaded {count:,} intervals in {elapsed:.1f} s ({count / elapsed:,.0f}/s)")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _rollup() -> None:
    """Roll up the days still marked dirty (all of them after a load)."""
    from dre.health.models import HeartbeatInterval
    from dre.health.rollups import rollup_dirty_days

    started = time.perf_counter()
    days = 0
    while batch := rollup_dirty_days():
        days += batch
    if days:
        elapsed = time.perf_counter() - started
        count = HeartbeatInterval.objects.count()
        print(f"rolled up {days} days in {elapsed:.1f} s ({count / elapsed:,.0f} intervals/s)")


def _page(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")


if __name__ == "__main__":
    main()

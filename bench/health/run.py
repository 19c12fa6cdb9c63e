"""Fleet health figures on a synthetic fleet in PostgreSQL.

    .venv/bin/python bench/health/run.py [--devices 2000] [--intervals 100] [--requests 20]

Creates its own database (dre_fleet_health_bench on the server of DATABASE_URL), inserts the
fleet of dre.health.synthetic, times the rollup of every day, then the fleet queries
(crash-free hours per software version over 30 days with intervals; a metric's daily mean
by cohort) and the overview and device pages, printing median and p95. Figures, not tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "pages"))

from run import _drop, _recreate, _setup_django  # noqa: E402  (bench/pages/run.py)

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2_000)
    parser.add_argument("--intervals", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", default="dre_fleet_health_bench")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    _recreate(server, args.database)
    try:
        _setup_django(urlsplit(server)._replace(path=f"/{args.database}").geturl())
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _drop(server, args.database)


def _run(args) -> None:
    from dre.accounts.models import Role
    from dre.accounts.services import membership_set, organization_create, project_create
    from dre.health import selectors
    from dre.health.rollups import rollup_dirty_days
    from dre.health.synthetic import FleetShape, synthetic_fleet

    organization = organization_create(slug="bench", name="Bench")
    project = project_create(organization=organization, slug="fleet", name="Fleet")
    started = time.perf_counter()
    count = synthetic_fleet(project, FleetShape(devices=args.devices, intervals=args.intervals))
    print(f"inserted {count:,} intervals in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    days = 0
    while batch := rollup_dirty_days():
        days += batch
    elapsed = time.perf_counter() - started
    print(f"rolled up {days} days in {elapsed:.1f} s ({count / elapsed:,.0f} intervals/s)")

    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.create_user("bench")
    membership_set(user=user, organization=organization, role=Role.VIEWER)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    timings = {
        "crash-free hours per version, 30 days": lambda: selectors.stability_by(
            project, "software_version"
        ),
        "daily mean of a metric by cohort": lambda: selectors.metric_daily(
            project, "battery_soc_pct", split_by="cohort"
        ),
        "overview page": lambda: _page(client, "/bench/fleet/health/"),
        "device page": lambda: _page(client, "/bench/fleet/devices/synthetic-000001/"),
    }
    for name, call in timings.items():
        call()
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(f"{name:45s} median {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms")


def _page(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")


if __name__ == "__main__":
    main()

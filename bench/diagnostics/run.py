"""Server time of the device page and the diagnostics API with a fleet's trace events,
logs and recordings in PostgreSQL.

    .venv/bin/python bench/diagnostics/run.py [--devices 300] [--requests 30] [--keep]

Creates its own database (dre_bench_diag on the server of DATABASE_URL), bulk-inserts a
fleet where every device has 30 days of hourly heartbeats, trace events on a handful of
issues, log events of 10 lines and recordings, then requests the pages through Django's
test client (middleware, session, view, queries, template; no network) and prints median
and p95 over N requests after warm-up, with the queries of one request and the ratio to
a baseline measured in the same run (the project's fleet health overview page of an
empty project: login, session, one template). Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import page_figures, scratch_database  # noqa: E402

TARGET_MS = 300
HOURS = 30 * 24


def main() -> None:
    args = _arguments()
    with scratch_database(args.database, keep=args.keep):
        started = time.perf_counter()
        data = build(args.devices)
        print(f"built in {time.perf_counter() - started:.0f} s: {data['counts']}")
        print_table(measure(data, args.requests))


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", default="dre_bench_diag")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


# -- data --------------------------------------------------------------------------------


def build(device_count: int) -> dict:
    import logging

    logging.disable(logging.INFO)
    from dre.accounts.models import Role
    from dre.accounts.services import membership_set, organization_create, project_create
    from dre.fleet.services import device_seen, software_version_get

    user = _user()
    org = organization_create(slug="acme", name="Acme")
    membership_set(user=user, organization=org, role=Role.ADMIN)
    project = project_create(organization=org, slug="sensors", name="Sensors")
    project_create(organization=org, slug="empty", name="Empty")
    version = software_version_get(project, "main", "1.0.0")
    devices = [device_seen(project, f"dev-{n:05d}") for n in range(device_count)]
    issues = _issues(project, 20)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    counts = {}
    for device in devices:
        for name, made in _device_rows(project, device, version, issues, now).items():
            counts[name] = counts.get(name, 0) + made
    _analyze()
    return {"user": user, "device": devices[0], "project": project, "counts": counts}


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bench", password="x")


def _issues(project, count: int) -> list:
    from dre.crashes.models import Issue

    now = datetime.now(UTC)
    return Issue.objects.bulk_create(
        Issue(
            project=project,
            kind=Issue.Kind.TRACE_EVENT,
            title=f"Trace event reason_{n} in f{n}",
            first_seen=now,
            last_seen=now,
        )
        for n in range(count)
    )


def _device_rows(project, device, version, issues, now) -> dict[str, int]:
    from dre.diagnostics.models import LogLine, Recording, State, TraceEvent
    from dre.health.models import HeartbeatInterval

    common = {"project": project, "device": device, "software_version": version}
    beats = [
        HeartbeatInterval(
            **common,
            cohort_id=device.cohort_id,
            session_index=-1,
            ended=now - timedelta(hours=h),
            started=now - timedelta(hours=h + 1),
            duration_ms=3_600_000,
            day=(now - timedelta(hours=h)).date(),
            values={
                "MemfaultSdkMetric_IntervalMs": 3_600_000,
                "battery_soc_pct": h % 100,
                "cpu_usage_pct": 12.5,
                "modem_fw": "2.1",
            },
        )
        for h in range(HOURS)
    ]
    HeartbeatInterval.objects.bulk_create(beats, batch_size=1000)
    source = device.pk * 1_000_000
    events = [
        TraceEvent(
            **common,
            time=now - timedelta(hours=random.randrange(HOURS)),
            source_event_id=source + n,
            reason=2,
            reason_name="sensor_timeout",
            pc=0x40A,
            lr=0x425,
            pc_location={"address": 0x40A, "function": "sensor_poll", "status": "symbolicated"},
            state=State.RESOLVED,
            issue=random.choice(issues),
            log={"status": "formatted", "text": "sensor imu timed out after 250 ms"},
        )
        for n in range(50)
    ]
    TraceEvent.objects.bulk_create(events)
    lines = [
        LogLine(
            **common,
            time=now - timedelta(hours=e),
            source_event_id=source + 1000 + e,
            position=p,
            level=p % 4,
            text=f"line {p} of log event {e}: link up after {p} min, rssi -71 dBm",
            status="formatted",
            state=State.RESOLVED,
        )
        for e in range(100)
        for p in range(10)
    ]
    LogLine.objects.bulk_create(lines, batch_size=1000)
    recordings = [
        Recording(
            **common,
            time=now - timedelta(hours=r * 24),
            source_event_id=source + 5000 + r,
            reason="uart dump",
            mimetypes=["text/plain"],
            blob=f"recordings/bench/{device.pk}-{r}.bin",
            size=1024,
            sha256="0" * 64,
        )
        for r in range(10)
    ]
    Recording.objects.bulk_create(recordings)
    return {"heartbeats": len(beats), "trace events": 50, "log lines": len(lines),
            "recordings": 10}  # fmt: skip


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# -- measuring ---------------------------------------------------------------------------


def pages(data) -> list[tuple[str, str]]:
    device = data["device"]
    api = f"/api/v1/projects/{data['project'].pk}"
    return [
        ("baseline: overview of an empty project", "/acme/empty/health/"),
        ("device page", f"/acme/sensors/devices/{device.serial}/"),
        ("api: device timeline", f"{api}/devices/{device.pk}/timeline/"),
        ("api: device attributes", f"{api}/devices/{device.pk}/attributes/"),
        ("api: trace events of a device", f"{api}/trace-events/?device={device.pk}"),
        ("api: log lines of a device", f"{api}/log-lines/?device={device.pk}"),
    ]


def measure(data, requests: int) -> list[tuple]:
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.force_login(data["user"])
    return page_figures(client, pages(data), requests)


def print_table(rows: list[tuple]) -> None:
    baseline = rows[0][1]
    print(f"\n{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'x baseline':>11}")
    for name, median, p95, queries in rows:
        flag = "" if p95 < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"{name:40} {median:10.1f} {p95:8.1f} {queries:8d} {median / baseline:10.1f}x{flag}")


if __name__ == "__main__":
    main()

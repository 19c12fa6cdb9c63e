"""The whole heartbeat path of one worker process, from pending chunks to named metrics.

    .venv/bin/python bench/health/chunks.py [--devices 200] [--heartbeats 5000] [--batch 200]
        [--no-freeze]

Creates its own database (dre_health_chunks_bench, dropped afterwards), indexes the
heartbeat-metadata test ELF, and stores positional heartbeats as the chunk endpoint
leaves them: one PendingChunks row per request, each a whole event message of one
heartbeat (what `chunks_accept` defers). Then it times what workers do with them, in
this one process: `pending_chunks_apply` over the ids of one group commit at a time
(the `chunks_apply` task), and the name resolution that queues (run in-process on
commit, as with no broker). It checks that every heartbeat came out named, that no
pending row is left and that every day is marked dirty, and prints heartbeats per
second, CPU seconds and SQL statements per heartbeat. Figures, not tests.

Once Django is set up it freezes the process's objects out of the garbage collector's
sight, as a Celery worker process does at start (dre.celery.worker_heap_freeze);
`--no-freeze` leaves them, as worker processes did before.

With PostgreSQL on this machine it also prints the CPU its backend (the process that
serves this connection) spent on the timed work, from /proc: with both CPUs shared
by other work, that and this process's CPU are the steady figures; the wall clock
rate is not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import scratch_database  # noqa: E402

VALUES = [3_600_000, 0, 1, 1, 87, 4250, -5]
SESSION = 1  # kMfltMetricsSessionKey_heartbeat in the fixture's metrics.c
START = 1_767_225_600  # 2026-01-01 00:00 UTC


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--heartbeats", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=200, help="pending rows per chunks_apply")
    parser.add_argument("--database", default="dre_health_chunks_bench")
    parser.add_argument(
        "--no-freeze", action="store_true", help="skip the worker's gc.freeze() at start"
    )
    args = parser.parse_args()
    with scratch_database(args.database):
        if not args.no_freeze:
            from dre.celery import worker_heap_freeze

            worker_heap_freeze()  # as a worker process does once it is set up
        _run(args)


def _run(args) -> None:
    import logging

    from django.db import connection
    from workers import _index_elf  # bench/health/workers.py

    from dre.accounts.services import organization_create, project_create
    from dre.ingest.pending import pending_chunks_apply

    logging.disable(logging.INFO)
    organization = organization_create(slug="bench", name="Bench")
    project = project_create(organization=organization, slug="fleet", name="Fleet")
    prefix = bytes.fromhex(_index_elf(project))
    _known_devices(project, args.devices)
    statements, elapsed, cpu, server_cpu, count = [], 0.0, 0.0, 0.0, 0
    backend = _backend_cpu_reader()
    # Rounds of `batch` requests, as group commits leave them: each round is applied
    # before the next arrives (a device's rows of later rounds would go with the first).
    for first in range(0, args.heartbeats, args.batch):
        ids = _pending(
            project, prefix, args.devices, range(first, min(first + args.batch, args.heartbeats))
        )
        started, cpu_started = time.perf_counter(), time.process_time()
        server_started = backend()
        with connection.execute_wrapper(lambda execute, *a: statements.append(1) or execute(*a)):
            pending_chunks_apply(ids)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        server_cpu += backend() - server_started
        count += len(ids)
    _check(project, count)
    print(f"{count:,} heartbeats of {args.devices} devices, {args.batch} pending rows per task")
    print(f"whole path      {count / elapsed:8,.0f} heartbeats/s  ({elapsed:.2f} s)")
    print(f"CPU (this process) {cpu / count * 1e6:8,.0f} us per heartbeat ({count / cpu:,.0f}/s)")
    print(f"SQL statements  {len(statements) / count:8.2f} per heartbeat")
    if server_cpu:
        print(f"CPU (PostgreSQL backend) {server_cpu / count * 1e6:8,.0f} us per heartbeat")


def _backend_cpu_reader():
    """A function that returns the CPU seconds (user + system) of this connection's
    PostgreSQL backend so far, or 0.0 when its /proc entry is not readable (a server
    on another machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (proc(5))

    return read


def _known_devices(project, devices: int) -> None:
    """The devices as they are after their first heartbeat: the steady state."""
    from dre.fleet.models import Device
    from dre.fleet.services import cohort_get_default, hardware_version_get, software_version_get

    cohort = cohort_get_default(project)
    software = software_version_get(project, "main", "1.0.0")
    hardware = hardware_version_get(project, "evt_1")
    Device.objects.bulk_create(
        Device(
            project=project,
            serial=f"bench-{n}",
            cohort=cohort,
            software_version=software,
            hardware_version=hardware,
        )
        for n in range(devices)
    )


def _pending(project, prefix: bytes, devices: int, numbers: range) -> list[int]:
    """One PendingChunks row per heartbeat, devices round robin, an hour apart per device."""
    import cbor2

    from dre.ingest import wire
    from dre.ingest.models import PendingChunks
    from dre.ingest.services import frame

    rows = []
    for n in numbers:
        event = {2: 1, 3: 1, 10: "main", 9: "1.0.0", 6: "evt_1", 11: prefix}
        event[1] = START + 3600 * (n // devices)
        event[4] = {2: SESSION, 1: VALUES}
        message = wire.encode_message(wire.MessageType.EVENT, cbor2.dumps(event))
        chunks = wire.encode_chunks(message)
        rows.append(
            PendingChunks(
                project=project, device_serial=f"bench-{n % devices}", chunks=frame(chunks)
            )
        )
    return [row.pk for row in PendingChunks.objects.bulk_create(rows, batch_size=2_000)]


def _check(project, count: int) -> None:
    from dre.health.models import DirtyDay, HeartbeatInterval
    from dre.ingest.models import PendingChunks

    named = HeartbeatInterval.objects.filter(
        project=project, state=HeartbeatInterval.State.RESOLVED
    ).count()
    if named != count:
        raise SystemExit(f"{named} of {count} heartbeats were named")
    if PendingChunks.objects.exists():
        raise SystemExit("pending chunks are left")
    days = HeartbeatInterval.objects.filter(project=project).values("day").distinct().count()
    if DirtyDay.objects.filter(project=project).count() != days:
        raise SystemExit("not every day with heartbeats is marked dirty")


if __name__ == "__main__":
    main()

"""Heartbeat resolution rate of one worker process, in PostgreSQL.

    .venv/bin/python bench/health/workers.py [--intervals 20000] [--batch 500]

Creates its own database (dre_healthstore_workers_bench, dropped afterwards), indexes the
heartbeat-metadata test ELF, stores positional heartbeats awaiting it as the chunk endpoint
does, and times `heartbeats_resolve` (what the `resolve_heartbeats` task runs) over batches,
against the same work one interval per call (the task as it was) measured in the same run.
Prints heartbeats per second. Figures, not tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import scratch_database  # noqa: E402

ELF = ROOT / "tests" / "fixtures" / "heartbeat-metadata" / "metrics.elf"
VALUES = [3_600_000, 0, 1, 1, 87, 4250, -5]
SESSION = 1  # kMfltMetricsSessionKey_heartbeat in the fixture's metrics.c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--singles", type=int, default=500)
    parser.add_argument("--database", default="dre_healthstore_workers_bench")
    args = parser.parse_args()
    with scratch_database(args.database):
        _run(args)


def _run(args) -> None:
    from dre.accounts.services import organization_create, project_create
    from dre.health.resolution import heartbeats_resolve

    organization = organization_create(slug="bench", name="Bench")
    project = project_create(organization=organization, slug="fleet", name="Fleet")
    prefix = _index_elf(project)
    singles = _waiting(project, prefix, args.singles, offset=0)
    started = time.perf_counter()
    for pk in singles:
        heartbeats_resolve([pk])
    single_rate = len(singles) / (time.perf_counter() - started)
    batched = _waiting(project, prefix, args.intervals, offset=args.singles)
    started = time.perf_counter()
    resolved = 0
    for n in range(0, len(batched), args.batch):
        resolved += heartbeats_resolve(batched[n : n + args.batch])
    elapsed = time.perf_counter() - started
    if resolved != len(batched):
        raise SystemExit(f"resolved {resolved} of {len(batched)}")
    rate = resolved / elapsed
    print(f"one interval per call        {single_rate:8,.0f} heartbeats/s")
    ratio = rate / single_rate
    print(f"batches of {args.batch:<5}             {rate:8,.0f} heartbeats/s  ({ratio:.1f}x)")


def _index_elf(project) -> str:
    from django.db import transaction

    from dre import blobs
    from dre.symbols.models import SymbolFile
    from dre.symbols.services import symbol_file_ingest

    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), ELF.read_bytes())
    with transaction.atomic():
        symbol_file_ingest(project, stored, name="metrics.elf")
    symbol_file = SymbolFile.objects.get(project=project)
    if symbol_file.state != SymbolFile.State.READY:
        raise SystemExit(f"the ELF is {symbol_file.state}: {symbol_file.error}")
    return symbol_file.build_id[:12]


def _waiting(project, prefix: str, count: int, *, offset: int) -> list[int]:
    """Positional heartbeats of 100 devices, as heartbeat_record stores them."""
    from datetime import UTC, datetime, timedelta

    from dre.fleet.models import Cohort, Device
    from dre.fleet.services import software_version_get
    from dre.health.models import HeartbeatInterval

    cohort = Cohort.objects.get_or_create(project=project, slug="default", defaults={"name": "d"})[
        0
    ]
    version = software_version_get(project, "main", "1.0.0")
    devices = [
        Device.objects.get_or_create(
            project=project, serial=f"bench-{n}", defaults={"cohort": cohort}
        )[0]
        for n in range(100)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(offset, offset + count):
        ended = start + timedelta(hours=n // len(devices))
        rows.append(
            HeartbeatInterval(
                project=project,
                device=devices[n % len(devices)],
                session_index=SESSION,
                session=f"session {SESSION}",
                started=ended,
                ended=ended,
                day=ended.date(),
                software_version=version,
                cohort=cohort,
                build_id_prefix=prefix,
                positional=VALUES,
                state=HeartbeatInterval.State.AWAITING_SYMBOLS,
            )
        )
    created = HeartbeatInterval.objects.bulk_create(rows, batch_size=2_000)
    return [row.pk for row in created]


if __name__ == "__main__":
    main()

"""Worker throughput: coredumps symbolicated and grouped per second by one process.

The coredumps are stored first without queueing them; then, in this process, exactly
as the Celery tasks call them:
- one at a time: coredump_symbolicate on each in turn (the symbolicate_coredump task);
- in batches: coredumps_symbolicate on --batch coredumps at a time (the
  symbolicate_batch task the edge publishes once per committed group of uploads).
Grouping runs in the same process after each commit (code that queues it as a task
runs eagerly). Each mode has its own project, so both start with no issues. SQL
statements are counted at the connection (Django's execute wrapper) during the timed
calls. "per CPU s" divides by this process's own CPU time (time.process_time): what it
would do with a CPU to itself and PostgreSQL answering at once; on a loaded machine the
wall-clock rate is a fraction of it. The broker's own round trips are not included: a
worker process with prefetch 1 adds one receive and one acknowledgement per task, which
a batch shares.

Traces are stored with their variables deferred (dre/crashes/variables.py); after each
batch run, the first open of 20 of its traces, which reads and stores them, is timed.
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import pstats
import statistics
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIGFW = ROOT / "bench" / "build" / "bigfw"
TARGET_PER_SECOND = 50
FIRST_OPENS = 20


def run(count: int, profile: bool, batch: int = 50) -> None:
    from dre.celery import app

    app.conf.task_always_eager = True
    print(f"\nworker: {count} coredumps per data set, symbolicated and grouped in one process")
    print(f"{'data set':16} {'mode':9} {'crashes':>7} {'per s':>7} {'median ms':>10} "
          f"{'p95 ms':>8} {'SQL/crash':>9} {'per CPU s':>9}  states")  # fmt: skip
    for name, pairs in data_sets().items():
        if not pairs:
            print(f"{name:16} missing: make -C bench builds it")
            continue
        for size in _batch_sizes(batch):
            measure(name, pairs, count, profile, size)


def _batch_sizes(batch: int) -> list[int]:
    """One at a time, then in batches (when this dre has the batch path)."""
    from dre.crashes import services

    return [1, batch] if hasattr(services, "coredumps_symbolicate") and batch > 1 else [1]


def data_sets() -> dict[str, list[tuple[Path, Path, str]]]:
    """(ELF, coredump, software version) of every fixture crash, and of bigfw's."""
    from dre.demo import fixture_builds

    fixtures = [
        (build / "firmware.elf", coredump, f"1.0.0+{build.name}")
        for build in fixture_builds()
        for coredump in sorted(build.glob("*/coredump.bin"))
    ]
    bigfw = [(BIGFW / "firmware.elf", BIGFW / "crash" / "coredump.bin", "1.0.0+bigfw")]
    return {"test fixtures": fixtures, "bench firmware": bigfw if bigfw[0][1].exists() else []}


def measure(name: str, pairs, count: int, profile: bool, size: int) -> None:
    project = _project(f"{name} {size}")
    for elf, version in {(elf, version) for elf, _, version in pairs}:
        _upload_elf(project, elf, version)
    ids = [_store_coredump(project, pairs[i % len(pairs)][1]) for i in range(count)]
    profiler = cProfile.Profile() if profile else None
    statements = Counter()
    cpu = time.process_time()
    with _counting(statements):
        times = _symbolicate_all(ids, profiler, size)
    cpu = time.process_time() - cpu
    _print_row(name, size, times, ids, statements["sql"], cpu)
    if profiler:
        _print_profile(profiler)
    if size > 1:
        _print_first_opens(ids[:FIRST_OPENS])


def _print_first_opens(ids: list[int]) -> None:
    """What deferring variables moved to the first open of a trace (the REST detail, the
    issue comparison): reading them from the coredump and storing them back. The first
    with the symbol index dropped from this process's cache (a web process that has not
    loaded this build yet), the others with it loaded; then a second open of each."""
    try:
        from dre.crashes.variables import trace_variables_read
    except ImportError:
        return  # a dre that stores variables at ingest
    from dre.crashes.models import Trace
    from dre.symbols.cache import symbol_index_cache_clear

    def open_ms(pk: int) -> float:
        started = time.perf_counter()
        trace_variables_read(Trace.objects.select_related("coredump__symbol_file").get(pk=pk))
        return (time.perf_counter() - started) * 1000

    traces = list(Trace.objects.filter(coredump__in=ids).values_list("pk", flat=True))
    symbol_index_cache_clear()
    first = [open_ms(pk) for pk in traces]
    again = [open_ms(pk) for pk in traces]
    print(f"{'':16} first open of a trace's variables: {first[0]:.0f} ms with the index "
          f"loaded cold, then median {statistics.median(first[1:]):.0f} ms; opened again: "
          f"median {statistics.median(again):.0f} ms ({len(traces)} traces)")  # fmt: skip


@contextmanager
def _counting(statements: Counter):
    from django.db import connection

    def count(execute, sql, params, many, context):
        statements["sql"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield


def _project(name: str):
    from django.utils.text import slugify

    from dre.accounts.models import Organization
    from dre.accounts.services import project_create

    return project_create(organization=Organization.objects.get(slug="bench"), slug=slugify(name))


def _upload_elf(project, elf: Path, version: str) -> None:
    """As CI uploads it; indexing runs here (eager), before anything is timed."""
    from dre import blobs
    from dre.symbols.services import symbol_file_ingest

    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), elf.read_bytes())
    symbol_file_ingest(project, stored, name=elf.name, software_type="dre-testfw",
                       software_version=version)  # fmt: skip


def _store_coredump(project, path: Path) -> int:
    """What coredump_receive stores, minus queueing it: the bench runs it itself."""
    import symbolicator
    from dre import blobs
    from dre.crashes.models import Coredump

    data = path.read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("coredumps", project.pk, ".core"), data)
    return Coredump.objects.create(
        project=project, blob=stored.name, size=stored.size,
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        source=Coredump.Source.UPLOAD, format=symbolicator.detect_format(data),
    ).pk  # fmt: skip


def _symbolicate_all(ids: list[int], profiler, size: int) -> list[float]:
    """Each coredump's time: its batch's time shared out among the batch."""
    from dre.crashes import services

    if size == 1:
        call, batches = services.coredump_symbolicate, [[i] for i in ids]
    else:
        call = services.coredumps_symbolicate
        batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    times = []
    for batch in batches:
        argument = batch[0] if size == 1 else batch
        started = time.perf_counter()
        if profiler:
            profiler.runcall(call, argument)
        else:
            call(argument)
        times += [(time.perf_counter() - started) / len(batch)] * len(batch)
    return times


def _print_row(name: str, size: int, times, ids: list[int], sql: int, cpu: float) -> None:
    from dre.crashes.models import Coredump

    states = Counter(Coredump.objects.filter(pk__in=ids).values_list("state", flat=True))
    ms = sorted(t * 1000 for t in times)
    p95 = ms[round(0.95 * (len(ms) - 1))]
    per_second = len(times) / sum(times)
    verdict = "met" if per_second >= TARGET_PER_SECOND else "MISSED"
    mode = "one" if size == 1 else f"batch {size}"
    print(f"{name:16} {mode:9} {len(times):7d} {per_second:7.1f} {statistics.median(ms):10.1f} "
          f"{p95:8.1f} {sql / len(ids):9.1f} {len(ids) / cpu:9.1f}  {dict(states)}  "
          f"(target {TARGET_PER_SECOND}/s: {verdict})")  # fmt: skip


def _print_profile(profiler) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
    print(out.getvalue())

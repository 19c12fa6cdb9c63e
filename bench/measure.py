"""Timing and memory helpers for bench/run.py. They measure; they never judge.

Times are wall-clock (time.perf_counter), with the CPU time of the same runs beside
them: in-process work by time.process_time, subprocesses by the user + system time of
the children (getrusage). On a machine shared with other work the CPU time moves less
than the wall clock. In-process work is timed after a garbage collection so one run
does not pay for the previous one's garbage; subprocesses are timed from spawn to exit,
output discarded.
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Timings:
    seconds: list[float]
    cpu_seconds: list[float] = field(default_factory=list)  # the same runs' CPU time

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.seconds)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]

    @property
    def runs(self) -> int:
        return len(self.seconds)


def time_call(function: Callable[[], object], runs: int, *, collect: bool = True) -> Timings:
    timings = Timings([])
    for _ in range(runs):
        if collect:
            gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        function()
        timings.seconds.append(time.perf_counter() - start)
        timings.cpu_seconds.append(time.process_time() - cpu)
    return timings


def time_command(command: list[str], runs: int, *, env: dict | None = None) -> Timings:
    timings = Timings([])
    for _ in range(runs):
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        timings.seconds.append(time.perf_counter() - start)
        timings.cpu_seconds.append(_children_cpu() - cpu)
    return timings


def _children_cpu() -> float:
    """User + system time of the finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tracemalloc_peak(function: Callable[[], object]) -> int:
    """Peak bytes Python allocated while `function` ran, beyond what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def child_rss(task: str, *paths: Path) -> dict:
    """Peak RSS of a fresh interpreter doing one task (rss_child.py); also its RSS once
    the imports are done, before any work."""
    command = [sys.executable, str(HERE / "rss_child.py"), task, *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)

"""Timing and memory helpers for bench/run.py. They measure; they never judge.

Times are wall-clock (time.perf_counter). In-process work is timed after a garbage
collection so one run does not pay for the previous one's garbage; subprocesses are timed
from spawn to exit, output discarded.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Timings:
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.seconds)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]

    @property
    def runs(self) -> int:
        return len(self.seconds)


def time_call(function: Callable[[], object], runs: int, *, collect: bool = True) -> Timings:
    seconds = []
    for _ in range(runs):
        if collect:
            gc.collect()
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return Timings(seconds)


def time_command(command: list[str], runs: int, *, env: dict | None = None) -> Timings:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        seconds.append(time.perf_counter() - start)
    return Timings(seconds)


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

"""Fleet aggregates over a window's interval values, pure."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    value: float | None
    devices: int
    intervals: int
    problem: str = ""  # why there is no value


def compute(aggregate: str, values: list[tuple[int, float]], *, min_devices: int = 1) -> Result:
    """`values` are (device id, value) pairs; too few reporting devices is no evidence."""
    numbers = [value for _, value in values]
    devices = len({device for device, _ in values})
    if devices < max(min_devices, 1):
        problem = f"{devices} devices reported, {max(min_devices, 1)} needed"
        return Result(None, devices, len(numbers), problem)
    return Result(FUNCTIONS[aggregate](numbers), devices, len(numbers))


def _p95(numbers: list[float]) -> float:
    # Nearest-rank percentile: a value some interval actually reported.
    ordered = sorted(numbers)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


FUNCTIONS = {
    "avg": lambda n: sum(n) / len(n),
    "min": min,
    "max": max,
    "sum": sum,
    "p95": _p95,
}

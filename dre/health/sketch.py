"""Mergeable value distributions for the rollups: percentiles without the raw rows.

A sketch counts values by logarithmic bucket, as DDSketch does (Masson, Rim, Lee 2019,
"DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees"):
bucket k of a positive value x is ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a), so
every quantile read back is within a relative error a of a true value. Sketches of days and
groups merge by adding counts, which is what lets a month of a release's percentiles come
from daily rollups. The buckets are computed in SQL by the PostgreSQL rollup (rollups.py),
so the mapping is written out here rather than taken from the `ddsketch` package: both sides
must agree on it exactly.

Keys are text so the sketch is plain JSON: "p<k>" for x > 0, "n<k>" for x < 0 (bucket of
|x|), "z" for zero.
"""

from __future__ import annotations

import math
from collections import Counter

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
LOG_GAMMA = math.log(GAMMA)
# Values this close to zero share the zero bucket (below any metric's resolution).
ZERO_BELOW = 1e-9


def bucket(value: float) -> str:
    if abs(value) < ZERO_BELOW:
        return "z"
    sign = "p" if value > 0 else "n"
    return f"{sign}{math.ceil(math.log(abs(value)) / LOG_GAMMA)}"


def bucket_value(key: str) -> float:
    """The bucket's representative: the value within the relative error of all it holds."""
    if key == "z":
        return 0.0
    magnitude = 2 * GAMMA ** int(key[1:]) / (GAMMA + 1)
    return magnitude if key[0] == "p" else -magnitude


def merge(sketches) -> Counter:
    total: Counter = Counter()
    for sketch in sketches:
        total.update(sketch)
    return total


def quantiles(sketch: dict, qs: tuple[float, ...]) -> dict[float, float | None]:
    """The q-quantiles of the values counted, each within the relative accuracy."""
    count = sum(sketch.values())
    if not count:
        return {q: None for q in qs}
    ordered = sorted(sketch.items(), key=lambda item: bucket_value(item[0]))
    found = {}
    for q in qs:
        rank, seen = q * (count - 1), 0
        for key, n in ordered:
            seen += n
            if seen > rank:
                found[q] = bucket_value(key)
                break
    return found

"""95 % confidence intervals for the stability numbers (README, "Fleet health").

Proportions (crash-free sessions, devices, hours) use the Wilson score interval: it stays
inside [0, 1] and keeps its coverage at 0 or 100 % and for small samples, where the
normal (Wald) interval collapses to a point. Rates (unexpected reboots per hour, whose
inverse is the mean time between them) use the exact Poisson interval of Garwood (1936):
counts of rare events over an exposure are Poisson, and the exact interval is honest at
zero or a handful of reboots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
ALPHA = 0.05
EXACT_POISSON_UP_TO = 100  # above this the Wilson-Hilferty form is within 0.01 %


@dataclass(frozen=True)
class Estimate:
    """A value with its 95 % interval and the sample it came from."""

    value: float | None
    low: float | None
    high: float | None
    sample: float

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "sample": self.sample}


def wilson(successes: float, trials: float) -> Estimate:
    """Wilson score interval for successes out of trials (Wilson 1927)."""
    if trials <= 0:
        return Estimate(None, None, None, 0)
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), trials)


@lru_cache(maxsize=4096)
def poisson_interval(count: int) -> tuple[float, float]:
    """Garwood's exact 95 % interval for the mean of a Poisson count."""
    if count > EXACT_POISSON_UP_TO:
        return _wilson_hilferty(count, lower=True), _wilson_hilferty(count + 1, lower=False)
    low = 0.0 if count == 0 else _solve(lambda mu: 1 - _poisson_cdf(count - 1, mu), count)
    high = _solve(lambda mu: _poisson_cdf(count, mu), count, decreasing=True)
    return low, high


def mean_time_between(events: int, exposure_hours: float) -> Estimate:
    """Hours per event, with the interval from the Poisson rate's bounds inverted."""
    if exposure_hours <= 0:
        return Estimate(None, None, None, 0)
    low_count, high_count = poisson_interval(events)
    value = exposure_hours / events if events else None
    low = exposure_hours / high_count
    high = exposure_hours / low_count if low_count > 0 else None  # no upper bound at zero
    return Estimate(value, low, high, exposure_hours)


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), summed in log space so large mu cannot overflow."""
    if k < 0:
        return 0.0
    if mu == 0:
        return 1.0
    log_terms = [i * math.log(mu) - mu - math.lgamma(i + 1) for i in range(k + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in log_terms))


def _solve(tail, count: int, *, decreasing: bool = False) -> float:
    """The mu at which `tail(mu)` equals ALPHA / 2, by bisection (tail is monotone in mu)."""
    target = ALPHA / 2
    low, high = 0.0, count + 10 * math.sqrt(count + 1) + 10
    for _ in range(64):  # the bracket shrinks 2**64-fold: far below float precision
        mid = (low + high) / 2
        above = tail(mid) > target
        if above != decreasing:
            high = mid
        else:
            low = mid
    return (low + high) / 2


def _wilson_hilferty(count: int, *, lower: bool) -> float:
    z = -Z95 if lower else Z95
    return count * (1 - 1 / (9 * count) + z / (3 * math.sqrt(count))) ** 3

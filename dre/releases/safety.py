"""Rollout safety: is the new release worse than the one it replaces? A pure function.

The question is asked of a staged rollout again and again (Celery beat), so the test
must stay honest however often it looks (README, "Rollout safety").

1. The numbers. Per day d (the health rollups' grain) each arm has operational hours
   h and unexpected reboots x. Reboots are a Poisson process, so the new arm's rate
   is r times the old arm's. Conditional on the day's n = x_new + x_old reboots,
   x_new is Binomial(n, p(r)) with p(r) = r h_new / (r h_new + h_old): the baseline
   rate, which nobody knows, drops out (the conditional binomial test of two Poisson
   rates, Przyborowski & Wilenski 1940).
2. Halting. H0: r <= r0 = 1 + margin (at most `margin` worse). For any r1 > r0 the
   likelihood ratio of p(r1) to p(r0), multiplied reboot by reboot, is a non-negative
   supermartingale under every r <= r0. A mixture over several r1 is one too, so by
   Ville's inequality P(it ever reaches 1/alpha) <= alpha: the rule may look every
   minute for a month and still halts a release that is no worse than the margin
   with probability at most alpha (an "always-valid" test, no peeking bias).
3. Widening mirrors it: H0: r >= r0, mixture over r1 < r0; the rollout may widen one
   step when that ratio reaches 1/alpha and the step has run long enough.
4. Evidence gates: nothing fires before the new arm has `min_hours` operational hours
   and `min_devices` devices; gates only remove chances to fire, so the bound holds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from dre.health.stats import Z95

WIDEN_STEPS = (5, 20, 50, 100)
# The alternatives the mixture weighs equally, as log rate ratios away from r0. Small
# steps catch a slightly worse release eventually; big ones catch a bad one fast.
LOG_ALTERNATIVES = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Rule:
    """A cohort's rollout rule (CohortPolicy stores it)."""

    min_hours: float = 500.0
    min_devices: int = 30
    margin: float = 0.25  # the new release may have up to 25 % more reboots per hour
    alpha: float = 0.05  # bound on the false-halt probability over the whole rollout
    auto_widen: bool = False
    widen_after_hours: float = 24.0  # at least this long at a step before widening


@dataclass(frozen=True)
class Day:
    """One stratum: the two arms' hours and unexpected reboots on one day."""

    new_hours: float
    new_reboots: int
    old_hours: float
    old_reboots: int


@dataclass(frozen=True)
class Decision:
    action: str  # "halt", "widen", "wait"
    reason: str
    evidence: dict = field(default_factory=dict)


def p_new(ratio: float, day: Day) -> float:
    """The chance a reboot of this day happened on the new arm, if rates differ by `ratio`."""
    weighted = ratio * day.new_hours
    return weighted / (weighted + day.old_hours)


def mixture_e_value(days: list[Day], r0: float, *, worse: bool) -> float:
    """Step 2 (worse=True) or 3 (worse=False): the mixture likelihood ratio against r0."""
    informative = [d for d in days if d.new_hours > 0 and d.old_hours > 0]
    sign = 1 if worse else -1
    total = 0.0
    for step in LOG_ALTERNATIVES:
        r1 = r0 * math.exp(sign * step)
        total += math.exp(min(_log_ratio(informative, r1, r0), 700.0))
    return total / len(LOG_ALTERNATIVES)


def _log_ratio(days: list[Day], r1: float, r0: float) -> float:
    return sum(
        _day_log_ratio(d.new_hours, d.new_reboots, d.old_hours, d.old_reboots, r1, r0) for d in days
    )


@lru_cache(maxsize=65_536)
def _day_log_ratio(new_hours, new_reboots, old_hours, old_reboots, r1: float, r0: float) -> float:
    """One day's factor; cached (by plain numbers, which hash fast) because every look
    recomputes the finished days."""
    day = Day(new_hours, new_reboots, old_hours, old_reboots)
    p1, p0 = p_new(r1, day), p_new(r0, day)
    return new_reboots * math.log(p1 / p0) + old_reboots * math.log((1 - p1) / (1 - p0))


def rate_ratio(days: list[Day]) -> dict:
    """The Mantel-Haenszel rate ratio over the days, with the 95 % interval of Greenland
    & Robins (1985) for person-time: per day, so a bad day for the whole fleet, on which
    the new arm happens to have more hours, does not make the release look worse."""
    used = [d for d in days if d.new_hours > 0 and d.old_hours > 0]
    n = sum(d.new_reboots + d.old_reboots for d in used)
    r = sum(d.new_reboots * d.old_hours / (d.new_hours + d.old_hours) for d in used)
    s = sum(d.old_reboots * d.new_hours / (d.new_hours + d.old_hours) for d in used)
    if r == 0 or s == 0:
        value = 0.0 if s else None
        return {"value": value, "low": None, "high": None, "reboots": n}
    variance = sum(
        (d.new_reboots + d.old_reboots)
        * d.new_hours
        * d.old_hours
        / (d.new_hours + d.old_hours) ** 2
        for d in used
    ) / (r * s)
    half = Z95 * math.sqrt(variance)
    value = r / s
    return {"value": value, "low": value * math.exp(-half), "high": value * math.exp(half),
            "reboots": n}  # fmt: skip


def decide(
    rule: Rule,
    days: list[Day],
    *,
    new_devices: int,
    percent: int,
    hours_at_step: float,
) -> Decision:
    """Halt, widen or wait, with the numbers that say why."""
    r0 = 1 + rule.margin
    threshold = 1 / rule.alpha
    new_hours = sum(d.new_hours for d in days)
    evidence = {
        "rule": asdict(rule),
        "new_hours": new_hours,
        "old_hours": sum(d.old_hours for d in days),
        "new_reboots": sum(d.new_reboots for d in days),
        "old_reboots": sum(d.old_reboots for d in days),
        "new_devices": new_devices,
        "days": len(days),
        "rate_ratio": rate_ratio(days),
        "halt_e_value": mixture_e_value(days, r0, worse=True),
        "widen_e_value": mixture_e_value(days, r0, worse=False),
        "threshold": threshold,
        "percent": percent,
    }
    missing = _missing_evidence(rule, new_hours, new_devices)
    if missing:
        return Decision("wait", f"not enough evidence yet: {missing}", evidence)
    if evidence["halt_e_value"] >= threshold:
        return Decision("halt", _worse_reason(rule, evidence), evidence)
    return _widen_or_wait(rule, evidence, percent, hours_at_step)


def _missing_evidence(rule: Rule, new_hours: float, new_devices: int) -> str:
    missing = []
    if new_hours < rule.min_hours:
        missing.append(f"{new_hours:.0f} of {rule.min_hours:.0f} operational hours")
    if new_devices < rule.min_devices:
        missing.append(f"{new_devices} of {rule.min_devices} devices")
    return ", ".join(missing)


def _worse_reason(rule: Rule, evidence: dict) -> str:
    ratio = evidence["rate_ratio"]
    return (
        f"unexpected reboots per hour are {_times(ratio['value'])} the previous release's "
        f"(95 % CI {_times(ratio['low'])} to {_times(ratio['high'])}), beyond the "
        f"{rule.margin:.0%} margin: evidence {evidence['halt_e_value']:.0f} >= "
        f"{evidence['threshold']:.0f}"
    )


def _times(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:.2f}x"


def _widen_or_wait(rule: Rule, evidence: dict, percent: int, hours_at_step: float) -> Decision:
    if evidence["widen_e_value"] < evidence["threshold"]:
        return Decision(
            "wait",
            f"not worse so far, and not yet shown within the {rule.margin:.0%} margin "
            f"(evidence to widen {evidence['widen_e_value']:.1f} of {evidence['threshold']:.0f})",
            evidence,
        )
    following = next_step(percent)
    if not rule.auto_widen or following is None:
        return Decision("wait", "shown within the margin; widening is up to a person", evidence)
    if hours_at_step < rule.widen_after_hours:
        return Decision(
            "wait",
            f"shown within the margin; {hours_at_step:.0f} of {rule.widen_after_hours:.0f} "
            f"hours at {percent} % before widening",
            evidence,
        )
    evidence["to_percent"] = following
    return Decision("widen", f"shown within the {rule.margin:.0%} margin: widen", evidence)


def next_step(percent: int) -> int | None:
    return next((step for step in WIDEN_STEPS if step > percent), None)

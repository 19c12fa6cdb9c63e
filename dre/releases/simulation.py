"""A simulated staged rollout, for the simulation test and bench/releases/rollout_sim.py.

A cohort of devices runs the old release; a staged share, picked by the real staging
hash (dre.releases.staging), runs the new one. Every hour each arm's unexpected reboots
are Poisson with its rate times the day's fleet-wide factor (a bad day for everyone,
which the concurrent comparison must not mistake for the release). The rule
(dre.releases.safety.decide) looks every `evaluate_every_hours`, exactly as the beat
task would, and its halts and widenings take effect at once.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from dre.releases.safety import Day, Rule, decide
from dre.releases.staging import is_staged


@dataclass(frozen=True)
class Scenario:
    devices: int = 2_000
    percent: int = 5
    old_rate: float = 0.004  # unexpected reboots per device-hour
    ratio: float = 1.0  # the new release's rate over the old one's
    days: int = 21
    evaluate_every_hours: int = 1
    daily_spread: float = 0.3  # sigma of the log of the fleet-wide factor per day


@dataclass(frozen=True)
class Outcome:
    halted_at_hour: int | None
    new_hours_at_halt: float | None
    final_percent: int
    widenings: int


def simulate(scenario: Scenario, rule: Rule, seed: int) -> Outcome:
    rng = random.Random(seed)
    salt = f"simulation-{seed}"
    serials = [f"sim-{n:06d}" for n in range(scenario.devices)]
    percent, hours_at_step, widenings = scenario.percent, 0, 0
    staged = _staged(serials, salt, percent)
    days: list[list[float]] = []
    for hour in range(scenario.days * 24):
        if hour % 24 == 0:
            days.append([0.0, 0, 0.0, 0])
            factor = math.exp(rng.gauss(0, scenario.daily_spread))
        _hour(rng, days[-1], scenario, staged, factor)
        hours_at_step += 1
        if (hour + 1) % scenario.evaluate_every_hours:
            continue
        decision = decide(rule, [Day(*d) for d in days], new_devices=staged,
                          percent=percent, hours_at_step=hours_at_step)  # fmt: skip
        if decision.action == "halt":
            return Outcome(hour + 1, decision.evidence["new_hours"], percent, widenings)
        if decision.action == "widen":
            percent, hours_at_step, widenings = decision.evidence["to_percent"], 0, widenings + 1
            staged = _staged(serials, salt, percent)
    return Outcome(None, None, percent, widenings)


def _staged(serials: list[str], salt: str, percent: int) -> int:
    return sum(1 for serial in serials if is_staged(salt, serial, percent))


def _hour(rng, day: list, scenario: Scenario, staged: int, factor: float) -> None:
    old = scenario.devices - staged
    day[0] += staged
    day[1] += poisson(rng, staged * scenario.old_rate * scenario.ratio * factor)
    day[2] += old
    day[3] += poisson(rng, old * scenario.old_rate * factor)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's product method in pieces of at most 500, so exp(-mean) cannot underflow
    (a sum of Poisson draws is Poisson)."""
    total = 0
    while mean > 0:
        piece = min(mean, 500.0)
        mean -= piece
        limit, count, product = math.exp(-piece), 0, rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
        total += count
    return total


def false_halt_rate(scenario: Scenario, rule: Rule, seeds: range) -> float:
    halts = sum(simulate(scenario, rule, seed).halted_at_hour is not None for seed in seeds)
    return halts / len(seeds)

"""False-halt rate and time to halt of the rollout-safety rule, over many seeds.

    .venv/bin/python bench/releases/rollout_sim.py [--seeds 1000] [--days 14] [--devices 2000]

Runs dre.releases.simulation (a cohort, a 5 % staged rollout picked by the real staging
hash, hourly Poisson reboots, a fleet-wide factor per day, the rule looking every hour)
for several rate ratios of the new release to the old one, with the default rule
(500 h, 30 devices, margin 25 %, alpha 5 %). Prints, per ratio: the share of seeds
halted, the median and 95th percentile of the hours and new-release operational hours
before the halt, and the seeds per second. The figure to watch is the halt rate at
ratio 1.0 (false halts) and at 1.25 (the margin itself: the bound says <= alpha).
Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RATIOS = (1.0, 1.25, 1.5, 2.0, 3.0)


def main() -> None:
    args = _arguments()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from dre.releases.safety import Rule
    from dre.releases.simulation import Scenario, simulate

    rule = Rule()
    print(f"rule: {rule}")
    print(f"{args.devices} devices, 5 % staged, {args.days} days, {args.seeds} seeds per ratio")
    print("ratio  halted   hours to halt (median, p95)   new-release hours at halt (median, p95)")
    for ratio in RATIOS:
        scenario = Scenario(devices=args.devices, ratio=ratio, days=args.days)
        started = time.perf_counter()
        outcomes = [simulate(scenario, rule, seed) for seed in range(args.seeds)]
        elapsed = time.perf_counter() - started
        _report(ratio, outcomes, args.seeds / elapsed)


def _report(ratio: float, outcomes: list, rate: float) -> None:
    halted = [o for o in outcomes if o.halted_at_hour is not None]
    share = len(halted) / len(outcomes)
    if halted:
        hours = _spread([o.halted_at_hour for o in halted])
        exposure = _spread([o.new_hours_at_halt for o in halted])
    else:
        hours = exposure = "-"
    print(f"{ratio:5.2f}  {share:6.1%}   {hours:>28}   {exposure:>38}   ({rate:.1f} seeds/s)")


def _spread(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"{statistics.median(values):.0f}, {p95:.0f}"


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--devices", type=int, default=2000)
    return parser.parse_args()


if __name__ == "__main__":
    main()

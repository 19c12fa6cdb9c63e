"""The simulation test (issue 10): a synthetic staged rollout where the new release crashes
more per hour, and one where it does not. The rule halts the first within the configured
evidence and never halts the second across a fixed set of seeds. bench/releases/
rollout_sim.py runs the same with 1,000 seeds and reports the rates."""

from dre.releases.safety import Rule
from dre.releases.simulation import Scenario, false_halt_rate, poisson, simulate

RULE = Rule(min_hours=500, min_devices=30, margin=0.25, alpha=0.05)
SEEDS = range(30)


def test_it_halts_a_release_that_reboots_three_times_as_often_within_days():
    outcomes = [simulate(Scenario(ratio=3.0, days=7), RULE, seed) for seed in SEEDS]

    assert all(o.halted_at_hour is not None for o in outcomes)
    assert all(o.new_hours_at_halt >= RULE.min_hours for o in outcomes)
    assert max(o.halted_at_hour for o in outcomes) <= 72
    assert all(o.final_percent == 5 for o in outcomes)  # it never got wider


def test_it_never_halts_a_release_as_good_as_the_previous_one():
    assert false_halt_rate(Scenario(ratio=1.0, days=7), RULE, SEEDS) == 0.0


def test_it_halts_a_release_exactly_at_the_margin_at_most_as_often_as_alpha_allows():
    # r = 1 + margin is the worst case for the bound: P(halt) <= alpha = 5 %.
    assert false_halt_rate(Scenario(ratio=1.25, days=7), RULE, SEEDS) <= 0.1


def test_with_auto_widen_an_equal_release_steps_up_and_a_bad_one_never_does():
    rule = Rule(min_hours=500, min_devices=30, auto_widen=True, widen_after_hours=24)

    good = simulate(Scenario(ratio=0.5, days=10), rule, seed=1)
    bad = simulate(Scenario(ratio=3.0, days=10), rule, seed=1)

    assert good.halted_at_hour is None
    assert good.final_percent > 5
    assert good.widenings >= 1
    assert bad.halted_at_hour is not None
    assert bad.widenings == 0


def test_the_poisson_draws_have_the_right_mean_even_past_500():
    import random

    rng = random.Random(3)
    draws = [poisson(rng, 1200.0) for _ in range(300)]

    assert abs(sum(draws) / len(draws) - 1200) < 10

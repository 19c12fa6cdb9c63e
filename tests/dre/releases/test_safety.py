"""The rollout-safety decision (dre.releases.safety) as a pure function of per-day hours
and unexpected reboots of both arms."""

from dre.releases.safety import Day, Rule, decide, mixture_e_value, next_step, rate_ratio

RULE = Rule(min_hours=500, min_devices=30, margin=0.25, alpha=0.05)


def days(n, new_hours, new_reboots, old_hours, old_reboots):
    return [Day(new_hours, new_reboots, old_hours, old_reboots) for _ in range(n)]


def test_it_waits_until_the_new_release_has_the_minimum_hours_and_devices():
    decision = decide(RULE, days(1, 400, 40, 8000, 20), new_devices=20, percent=5,
                      hours_at_step=10)  # fmt: skip

    assert decision.action == "wait"
    assert decision.reason == (
        "not enough evidence yet: 400 of 500 operational hours, 20 of 30 devices"
    )


def test_it_halts_when_the_new_release_reboots_far_more_per_hour():
    # 10x the reboots per hour: 40 in 2,400 h against 80 in 48,000 h.
    decision = decide(RULE, days(2, 1200, 20, 24000, 40), new_devices=100, percent=5,
                      hours_at_step=48)  # fmt: skip

    assert decision.action == "halt"
    assert 5 < decision.evidence["rate_ratio"]["value"] < 15
    assert decision.evidence["halt_e_value"] >= 20
    assert "beyond the 25% margin" in decision.reason


def test_it_does_not_halt_a_release_as_good_as_the_previous_one():
    decision = decide(RULE, days(7, 1200, 5, 24000, 100), new_devices=100, percent=5,
                      hours_at_step=24 * 7)  # fmt: skip

    assert decision.action == "wait"
    assert decision.evidence["halt_e_value"] < 1


def test_it_widens_only_when_allowed_and_after_the_step_lasted():
    rule = Rule(min_hours=500, min_devices=30, auto_widen=True, widen_after_hours=24)
    good = days(7, 3000, 5, 24000, 80)  # half the rate, plenty of evidence

    early = decide(rule, good, new_devices=100, percent=5, hours_at_step=10)
    later = decide(rule, good, new_devices=100, percent=5, hours_at_step=30)
    manual = decide(RULE, good, new_devices=100, percent=5, hours_at_step=30)

    assert (early.action, later.action, manual.action) == ("wait", "widen", "wait")
    assert later.evidence["to_percent"] == 20
    assert "10 of 24 hours at 5 %" in early.reason
    assert manual.reason == "shown within the margin; widening is up to a person"


def test_the_widening_steps_are_5_20_50_100():
    assert [next_step(p) for p in (1, 5, 20, 50, 100)] == [5, 20, 50, 100, None]


def test_a_bad_day_for_the_whole_fleet_is_not_the_new_releases_fault():
    # Day 2 is bad for everyone (5x the reboots on both arms); pooled naively, the new arm
    # has more of its hours on the bad day and would look worse. Per day it is equal.
    strata = [Day(100, 1, 10000, 100), Day(1000, 50, 10000, 500)]

    assert mixture_e_value(strata, 1.25, worse=True) < 1
    assert abs(rate_ratio(strata)["value"] - 1.0) < 0.01
    pooled = (51 / 1100) / (600 / 20000)
    assert pooled > 1.5  # what a comparison that ignores the day would say


def test_the_rate_ratio_interval_contains_the_estimate():
    ratio = rate_ratio(days(3, 1000, 10, 10000, 50))

    assert ratio["low"] < ratio["value"] < ratio["high"]
    assert abs(ratio["value"] - 2.0) < 1e-9
    assert ratio["reboots"] == 180


def test_no_reboots_on_the_new_release_is_a_ratio_of_zero_without_bounds():
    assert rate_ratio(days(3, 1000, 0, 10000, 30)) == {
        "value": 0.0, "low": None, "high": None, "reboots": 90,
    }  # fmt: skip


def test_without_reboots_there_is_no_ratio_and_no_evidence_either_way():
    strata = days(3, 1000, 0, 10000, 0)

    assert rate_ratio(strata)["value"] is None
    assert mixture_e_value(strata, 1.25, worse=True) == 1.0
    assert mixture_e_value(strata, 1.25, worse=False) == 1.0

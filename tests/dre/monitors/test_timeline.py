"""The device-threshold state machine on its own: delays, flapping, order."""

from datetime import UTC, datetime, timedelta

from dre.monitors.timeline import Point, replay

T0 = datetime(2025, 12, 4, tzinfo=UTC)
H = timedelta(hours=1)


def points(*pattern: str) -> list[Point]:
    """One point an hour: "B" breaching, "." clear."""
    return [Point(T0 + i * H, 1.0 if c == "B" else 0.0, c == "B") for i, c in enumerate(pattern)]


def kinds(transitions):
    return [(t.kind, (t.time - T0) // H) for t in transitions]


def run(pattern, *, alerting=False, start=0, end=0):
    return replay(points(*pattern), alerting=alerting, start_delay=start * H, end_delay=end * H)


def test_it_triggers_on_the_first_breach_without_a_start_delay():
    assert kinds(run(".B")) == [("triggered", 1)]


def test_it_triggers_once_the_breach_lasted_the_start_delay_and_dates_it_from_the_start():
    transitions = run(".BBB", start=2)
    assert kinds(transitions) == [("triggered", 3)]
    assert transitions[0].started == T0 + H


def test_it_forgets_a_breach_that_cleared_before_the_start_delay():
    assert run("BB.BB.", start=2) == []


def test_it_pages_a_flapping_device_once_with_an_end_delay():
    assert kinds(run("B.B.B.B", end=2)) == [("triggered", 0)]


def test_it_resolves_once_clear_for_the_end_delay():
    assert kinds(run("B...", end=2)) == [("triggered", 0), ("resolved", 3)]


def test_it_orders_points_by_device_time_not_arrival():
    shuffled = list(reversed(points(*"BBB")))
    transitions = replay(shuffled, alerting=False, start_delay=2 * H, end_delay=0 * H)
    assert kinds(transitions) == [("triggered", 2)]


def test_it_starts_from_the_state_it_is_given():
    assert kinds(run("..", alerting=True)) == [("resolved", 0)]
    assert run("BB", alerting=True) == []


def test_it_counts_no_delay_across_a_gap_in_the_heartbeats():
    first = Point(T0 + H, 1.0, True, started=T0)
    after_gap = Point(T0 + 3 * H, 1.0, True, started=T0 + 2 * H)
    assert replay([first, after_gap], alerting=False, start_delay=2 * H, end_delay=0 * H) == []

    filled = Point(T0 + 2 * H, 1.0, True, started=T0 + H)
    transitions = replay(
        [first, after_gap, filled], alerting=False, start_delay=2 * H, end_delay=0 * H
    )
    assert kinds(transitions) == [("triggered", 3)]

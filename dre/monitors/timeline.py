"""The device-threshold state machine, pure: replay a device's observations in device
time and say where incidents open and resolve.

Replaying in the order of interval ends (not of arrival) is what makes out-of-order and
late heartbeats land where they belong. The delays make a flapping device page once:

1. Healthy: a breaching observation starts a run; a clear one ends it. When a run has
   lasted `start_delay` (from its first interval end to the current one), the incident
   opens, dated from the run's start.
2. Alerting: a clear observation starts a clear run; a breaching one ends it. When the
   clear run has lasted `end_delay`, the incident resolves.
3. A gap ends a run too: when an interval starts well after the previous one ended, the
   device said nothing in between (a heartbeat not uploaded yet, or lost), and nothing
   unknown counts towards a delay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Point:
    ended: datetime
    value: float
    breaching: bool
    started: datetime | None = None  # None: the interval's length is unknown


# Devices stamp intervals with their own clock; a minute of slack between one interval's
# end and the next one's start is still "contiguous".
GAP_TOLERANCE = timedelta(seconds=60)


def _gap(previous: Point | None, point: Point) -> bool:
    if previous is None or point.started is None or point.started >= point.ended:
        return False
    return point.started - previous.ended > GAP_TOLERANCE


@dataclass(frozen=True)
class Transition:
    kind: str  # "triggered" or "resolved"
    time: datetime
    started: datetime  # when the run that caused it began
    value: float


def replay(
    points: Iterable[Point], *, alerting: bool, start_delay: timedelta, end_delay: timedelta
) -> list[Transition]:
    transitions: list[Transition] = []
    run: Point | None = None  # first point of the current breaching (or clear) run
    previous: Point | None = None
    for point in sorted(points, key=lambda p: p.ended):
        if _gap(previous, point):
            run = None
        previous = point
        if point.breaching != alerting:
            run = run or point
            delay = end_delay if alerting else start_delay
            if point.ended - run.ended >= delay:
                kind = "resolved" if alerting else "triggered"
                transitions.append(Transition(kind, point.ended, run.ended, point.value))
                alerting, run = not alerting, None
        else:
            run = None
    return transitions

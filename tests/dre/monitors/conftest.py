"""Heartbeats sent as devices send them (the chunk endpoint), and monitors saved the
way the pages save them."""

from datetime import UTC, datetime

import pytest

from dre.alerts.models import AlertRule
from dre.alerts.services import rule_save
from dre.events import EventType
from dre.monitors.models import Monitor
from dre.monitors.services import monitor_save
from tests.builders import heartbeat_info, sdk_event
from tests.dre.health.conftest import DAY_START

HOUR = 3600


def at(hours: float) -> datetime:
    return datetime.fromtimestamp(DAY_START + hours * HOUR, tz=UTC)


def heartbeat(hours: float, **values):
    """A named heartbeat ending `hours` after the day's start, one hour long."""
    values.setdefault("MemfaultSdkMetric_IntervalMs", HOUR * 1000)
    return sdk_event(1, heartbeat_info(values), captured_at=int(DAY_START + hours * HOUR))


@pytest.fixture
def make_monitor(project):
    def make(kind=Monitor.Kind.DEVICE, **fields):
        fields.setdefault("name", "hot battery")
        fields.setdefault("metric_key", "battery_temp")
        fields.setdefault("operator", ">")
        fields.setdefault("threshold", 50)
        return monitor_save(Monitor(project=project, kind=kind, **fields))

    return make


@pytest.fixture
def metric_rule(project):
    """An alert rule that hears every metric alert (and so stores its events)."""
    rule = AlertRule(project=project, name="metrics", email=False)
    rule.events = list(EventType.METRIC_TYPES)
    return rule_save(rule)

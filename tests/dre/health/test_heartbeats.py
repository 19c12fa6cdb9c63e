"""Heartbeats through the chunk endpoint become intervals, a metric registry and rollups."""

from datetime import UTC, date, datetime

import pytest

from dre.health.models import (
    DirtyDay,
    HeartbeatInterval,
    Metric,
    MetricDailyRollup,
    StabilityDailyRollup,
)
from dre.health.rollups import rollup_day, rollup_dirty_days
from tests.builders import heartbeat_info, sdk_event
from tests.dre.health.conftest import DAY_START

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000
DAY = date(2025, 12, 4)


def named(at, **values):
    return sdk_event(1, heartbeat_info(values), captured_at=at)


def test_it_stores_a_named_heartbeat_as_one_interval_in_display_units(send, project):
    send(named(DAY_START + 3600, MemfaultSdkMetric_IntervalMs=HOUR_MS, battery_soc_pct=80))

    interval = HeartbeatInterval.objects.get()
    assert interval.state == HeartbeatInterval.State.RESOLVED
    assert interval.values == {"MemfaultSdkMetric_IntervalMs": HOUR_MS, "battery_soc_pct": 80}
    assert interval.ended == datetime.fromtimestamp(DAY_START + 3600, tz=UTC)
    assert interval.started == datetime.fromtimestamp(DAY_START, tz=UTC)
    assert interval.device.serial == "dev-1"
    assert str(interval.software_version) == "main 1.0.0"
    assert str(interval.hardware_version) == "evt_1"
    assert interval.cohort.slug == "default"


def test_it_creates_registry_entries_as_devices_first_report_a_metric(send, project):
    send(named(DAY_START + 60, battery_soc_pct=80, mode="eco", offset=-3))
    send(named(DAY_START + 120, battery_soc_pct=70))

    metrics = {m.key: m for m in Metric.objects.filter(project=project)}
    assert set(metrics) == {"battery_soc_pct", "mode", "offset"}
    assert metrics["battery_soc_pct"].display_name == "Battery"
    assert metrics["battery_soc_pct"].unit == "%"
    assert metrics["mode"].type == Metric.Type.STRING
    assert metrics["offset"].type == Metric.Type.SIGNED


def test_it_drops_a_resent_heartbeat_instead_of_counting_it_twice(send, project):
    heartbeat = named(DAY_START + 3600, MemfaultSdkMetric_IntervalMs=HOUR_MS)
    send(heartbeat)
    send(heartbeat)

    assert HeartbeatInterval.objects.count() == 1
    rollup_day(project.pk, DAY)
    assert StabilityDailyRollup.objects.get().sessions == 1


def test_it_keeps_a_late_heartbeat_and_recomputes_its_day(send, project):
    send(named(DAY_START + 7200, MemfaultSdkMetric_IntervalMs=HOUR_MS, battery_soc_pct=50))
    rollup_dirty_days()
    send(named(DAY_START + 3600, MemfaultSdkMetric_IntervalMs=HOUR_MS, battery_soc_pct=70))

    assert DirtyDay.objects.filter(day=DAY).exists()
    assert rollup_dirty_days() == 1
    battery = MetricDailyRollup.objects.get(metric="battery_soc_pct")
    assert (battery.count, battery.total, battery.minimum, battery.maximum) == (2, 120, 50, 70)
    assert StabilityDailyRollup.objects.get().operational_hours == pytest.approx(2.0)
    assert not DirtyDay.objects.exists()


def test_it_recomputes_a_day_to_the_same_rows(send, project):
    send(named(DAY_START + 3600, battery_soc_pct=70), serial="a")
    send(named(DAY_START + 3600, battery_soc_pct=60), serial="b")

    rollup_day(project.pk, DAY)
    first = list(MetricDailyRollup.objects.values("metric", "count", "total"))
    rollup_day(project.pk, DAY)

    assert list(MetricDailyRollup.objects.values("metric", "count", "total")) == first
    assert StabilityDailyRollup.objects.get().devices == 2


def test_it_splits_rollups_by_software_version(send, project):
    send(named(DAY_START + 60, battery_soc_pct=70))
    send(
        sdk_event(
            1,
            heartbeat_info({"battery_soc_pct": 40}),
            software_version="2.0.0",
            captured_at=DAY_START + 120,
        )
    )

    rollup_day(project.pk, DAY)

    by_version = {
        str(r.software_version): r.total
        for r in MetricDailyRollup.objects.select_related("software_version")
    }
    assert by_version == {"main 1.0.0": 70, "main 2.0.0": 40}


def test_it_keeps_a_never_set_metric_as_no_value_not_zero(send, project):
    send(named(DAY_START + 60, battery_soc_pct=None, uptime_s=5))

    assert HeartbeatInterval.objects.get().values["battery_soc_pct"] is None
    rollup_day(project.pk, DAY)
    assert list(MetricDailyRollup.objects.values_list("metric", flat=True)) == ["uptime_s"]


def test_a_positional_heartbeat_waits_for_its_elf(send, project):
    send(sdk_event(1, heartbeat_info([HOUR_MS, 0, 1, 1], session=1), captured_at=DAY_START))

    interval = HeartbeatInterval.objects.get()
    assert interval.state == HeartbeatInterval.State.AWAITING_SYMBOLS
    assert interval.positional == [HOUR_MS, 0, 1, 1]


def test_it_keeps_byte_values_and_overlong_names_without_failing_the_request(send, project):
    long_name = "m" * 200
    send(named(DAY_START + 60, blob=b"\x01\x02", **{long_name: 7, "uptime_s": 5}))

    values = HeartbeatInterval.objects.get().values
    assert values["blob"] == {"hex": "0102"}
    assert values[long_name] == 7
    assert not Metric.objects.filter(key=long_name).exists()
    rollup_day(project.pk, DAY)
    assert set(MetricDailyRollup.objects.values_list("metric", flat=True)) == {"uptime_s"}

"""The metric store: registry ranges and kinds, device attributes, day partitions,
percentile sketches, battery and connectivity, and the heartbeats_recorded event."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from dre.events import EventType, domain_event
from dre.fleet.models import Cohort
from dre.health import partitions, rollups, sketch
from dre.health.models import DeviceMetricValue, HeartbeatInterval, Metric
from dre.health.rollups import rollup_day
from dre.health.selectors import metric_explore, stability_by
from tests.builders import heartbeat_info, sdk_event
from tests.dre.health.conftest import DAY_START

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000
DAY = date(2025, 12, 4)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only"
)


def named(hour, serial_day_start=DAY_START, **values):
    values.setdefault("MemfaultSdkMetric_IntervalMs", HOUR_MS)
    return sdk_event(1, heartbeat_info(values), captured_at=serial_day_start + int(hour * 3600))


def test_a_value_outside_a_filtering_range_is_kept_aside_not_rolled_up(send, project):
    send(named(1, cpu_pct=10))
    Metric.objects.filter(key="cpu_pct").update(
        range_min=0, range_max=100, filter_out_of_range=True
    )
    send(named(2, cpu_pct=250), named(3, cpu_pct=30))
    rollup_day(project.pk, DAY)

    wild = HeartbeatInterval.objects.get(ended__hour=2)
    assert wild.values == {"MemfaultSdkMetric_IntervalMs": HOUR_MS}
    assert wild.filtered == {"cpu_pct": 250}
    (row,) = metric_explore(project, "cpu_pct", split_by=None, days=100_000)
    assert (row["count"], row["max"]) == (2, 30)


def test_a_range_without_filtering_keeps_every_value(send, project):
    send(named(1, cpu_pct=10))
    Metric.objects.filter(key="cpu_pct").update(range_min=0, range_max=100)
    send(named(2, cpu_pct=250))

    assert HeartbeatInterval.objects.get(ended__hour=2).values["cpu_pct"] == 250


def test_a_string_metric_is_an_attribute_whose_latest_value_the_device_keeps(send, project):
    send(named(2, modem_fw="1.2"), named(3, modem_fw="1.3"))
    send(named(1, modem_fw="1.1"))  # arrives late: older than what is kept

    assert Metric.objects.get(key="modem_fw").kind == Metric.Kind.ATTRIBUTE
    value = DeviceMetricValue.objects.get(key="modem_fw")
    assert value.value == "1.3"
    assert value.time == datetime.fromtimestamp(DAY_START + 3 * 3600, tz=UTC)


def test_an_attribute_only_metric_stays_out_of_the_rollups(send, project):
    send(named(1, rssi=-60))
    Metric.objects.filter(key="rssi").update(kind=Metric.Kind.ATTRIBUTE)
    send(named(2, rssi=-70))
    rollup_day(project.pk, DAY)

    assert metric_explore(project, "rssi", split_by=None, days=100_000) == []
    assert DeviceMetricValue.objects.get(key="rssi").value == -70


def test_a_metric_of_both_kinds_is_rolled_up_and_kept_as_latest_value(send, project):
    send(named(1, temp=20))
    Metric.objects.filter(key="temp").update(kind=Metric.Kind.BOTH)
    send(named(2, temp=22))
    rollup_day(project.pk, DAY)

    assert metric_explore(project, "temp", split_by=None, days=100_000)[0]["count"] == 2
    assert DeviceMetricValue.objects.get(key="temp").value == 22


def test_percentiles_from_the_sketch_are_within_one_percent(send, project):
    for device in range(5):  # a device's chunks are rate-limited: spread the 100 values
        values = range(1 + device * 20, 21 + device * 20)
        send(*[named(v / 5, latency_ms=v) for v in values], serial=f"dev-{device}")
    rollup_day(project.pk, DAY)

    (row,) = metric_explore(project, "latency_ms", split_by=None, days=100_000)
    assert row["count"] == 100
    assert row["sum"] == sum(range(1, 101))
    assert (row["min"], row["max"]) == (1, 100)
    assert row["p50"] == pytest.approx(50.5, rel=0.02)
    assert row["p99"] == pytest.approx(99, rel=0.02)


def test_the_sketch_keeps_zero_and_negative_values_apart():
    counts = {sketch.bucket(v): 1 for v in (-50, 0, 0.5, 50)}

    found = sketch.quantiles(counts, (0.0, 0.34, 0.67, 1.0))
    assert found[0.0] == pytest.approx(-50, rel=0.01)
    assert found[0.34] == 0
    assert found[0.67] == pytest.approx(0.5, rel=0.01)
    assert found[1.0] == pytest.approx(50, rel=0.01)


def test_battery_drain_and_projected_life_come_from_discharging_intervals(send, project):
    battery = {"battery_discharge_duration_ms": HOUR_MS // 2, "battery_soc_pct_drop": 2}
    send(named(1, **battery), named(2, **battery))
    send(named(3, battery_discharge_duration_ms=0, battery_soc_pct_drop=0))  # charging
    rollup_day(project.pk, DAY)

    (release,) = stability_by(project, "software_version")
    assert release.battery["soc_drop_per_hour"] == pytest.approx(4.0)
    assert release.battery["projected_life_hours"] == pytest.approx(25.0)
    assert (release.battery["discharge_hours"], release.battery["intervals"]) == (1.0, 2)


def test_connectivity_is_connected_over_expected_time_with_an_interval(send, project):
    send(
        *[
            named(
                h,
                connectivity_connected_time_ms=HOUR_MS * 9 // 10,
                connectivity_expected_time_ms=HOUR_MS,
            )
            for h in range(1, 11)
        ]
    )
    rollup_day(project.pk, DAY)

    (release,) = stability_by(project, "software_version")
    assert release.connectivity.value == pytest.approx(0.9)
    assert release.connectivity.sample == pytest.approx(10.0)
    assert release.connectivity.low < 0.9 < release.connectivity.high


def test_it_announces_stored_heartbeats_in_the_transaction_that_stores_them(send, project):
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append(event)

    domain_event.connect(receiver)
    try:
        send(named(1, battery_soc_pct=80))
    finally:
        domain_event.disconnect(receiver)

    (event,) = [e for e in seen if e.type == EventType.HEALTH_HEARTBEATS_RECORDED]
    (heartbeat,) = event.data["intervals"]
    assert event.project_id == project.pk
    assert heartbeat["device_serial"] == "dev-1"
    assert heartbeat["values"]["battery_soc_pct"] == 80


@postgresql_only
def test_the_intervals_table_is_partitioned_by_day_with_a_default_partition(send, project):
    send(named(1, battery_soc_pct=80))

    assert partitions.partition_days() == []  # 2025-12-04 has no partition: default holds it
    partitions.partitions_maintain(today=DAY + timedelta(days=1))

    assert DAY in partitions.partition_days()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM health_heartbeatinterval WHERE project_id = %s",
            [project.pk],
        )
        assert cursor.fetchall() == [(partitions.partition_name(DAY),)]


@postgresql_only
def test_a_late_heartbeat_lands_in_its_days_partition_and_duplicates_still_drop(send, project):
    partitions.partitions_maintain(today=DAY)
    send(named(5, battery_soc_pct=80))
    send(named(5, battery_soc_pct=80), named(4, battery_soc_pct=70))

    assert HeartbeatInterval.objects.count() == 2
    rollup_day(project.pk, DAY)
    (row,) = metric_explore(project, "battery_soc_pct", split_by=None, days=100_000)
    assert row["count"] == 2


@postgresql_only
def test_sql_and_python_metric_rollups_agree(send, project):
    send(*[named(h, a=h * 1.5, b=-h, c=0, s="x") for h in range(1, 20)])

    in_sql = rollups._metric_values_sql(project.pk, DAY)
    in_python = rollups._metric_values_python(project.pk, DAY)
    assert set(in_sql) == set(in_python)
    for group, values in in_sql.items():
        other = in_python[group]
        assert (values.count, values.minimum, values.maximum) == (
            other.count,
            other.minimum,
            other.maximum,
        )
        assert values.total == pytest.approx(other.total)
        assert values.buckets == other.buckets


def test_the_explorer_page_shows_a_metric_split_by_cohort(client, bob, send, project):
    now = int(time.time()) // 3600 * 3600
    send(*[named(0, serial_day_start=now - h * 3600, battery_soc_pct=50 + h) for h in range(3)])
    while rollups.rollup_dirty_days():
        pass
    client.force_login(bob)

    page = client.get(
        "/acme/sensors/health/metrics/?metric=battery_soc_pct&split_by=cohort&aggregate=p95"
    ).content.decode()

    assert 'data-testid="explorer-table"' in page
    assert f"<td>{Cohort.objects.get().name}</td>" in page
    assert 'id="explorer-data"' in page

"""Fleet health in the REST API, with the OpenAPI schema describing it."""

import time

import pytest

from dre.fleet.models import Device
from dre.health.rollups import rollup_dirty_days
from tests.builders import heartbeat_info, reboot_info, sdk_event
from tests.conftest import bearer

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000


@pytest.fixture
def token(alice_token):
    return bearer(alice_token)


@pytest.fixture
def fleet(send):
    # Yesterday at 01:00 UTC: the reboot (00:59:30 less an hour) falls the day before the
    # interval that counts it, so the test always crosses midnight, as a fleet does.
    now = int(time.time()) // 86400 * 86400 - 86400 + 3600
    values = {"MemfaultSdkMetric_IntervalMs": HOUR_MS, "battery_soc_pct": 50}
    send(*[sdk_event(1, heartbeat_info(values), captured_at=now - h * 3600) for h in range(4)])
    send(sdk_event(2, reboot_info(0x9400), captured_at=now - 3600 - 30))
    rollup_dirty_days()


def test_it_answers_stability_per_release_with_intervals_and_samples(client, project, token, fleet):
    response = client.get(f"/api/v1/projects/{project.pk}/health/stability/", headers=token)

    assert response.status_code == 200
    (row,) = response.json()
    hours = row["crash_free_hours"]
    assert (hours["value"], hours["sample"]) == (0.75, 4.0)
    assert 0 < hours["low"] < 0.75 < hours["high"] <= 1
    assert row["unexpected_reboots"] == 1


def test_it_refuses_an_unknown_grouping(client, project, token):
    url = f"/api/v1/projects/{project.pk}/health/stability/?group_by=colour"
    assert client.get(url, headers=token).status_code == 400


def test_it_lists_the_metric_registry_and_a_metrics_daily_series(client, project, token, fleet):
    base = f"/api/v1/projects/{project.pk}/health/metrics/"
    keys = [m["key"] for m in client.get(base, headers=token).json()["results"]]
    assert keys == ["MemfaultSdkMetric_IntervalMs", "battery_soc_pct"]

    days = client.get(f"{base}battery_soc_pct/daily/?split_by=cohort", headers=token).json()
    assert sum(d["count"] for d in days) == 4
    assert {d["mean"] for d in days} == {50.0}


def test_it_lists_a_devices_heartbeats_and_named_reboots(client, project, token, fleet):
    device = Device.objects.get()
    base = f"/api/v1/projects/{project.pk}/devices/{device.pk}"

    heartbeats = client.get(f"{base}/heartbeats/", headers=token).json()["results"]
    reboots = client.get(f"{base}/reboots/", headers=token).json()["results"]

    assert len(heartbeats) == 4
    assert [(r["reason_name"], r["unexpected"]) for r in reboots] == [("HardFault", True)]


def test_the_schema_describes_the_health_endpoints(client, token):
    schema = client.get("/api/v1/schema/", headers=token).content.decode()

    assert "/health/stability/" in schema
    assert "Garwood exact Poisson interval" in schema


def test_it_answers_a_metrics_percentiles_per_day_for_the_explorer(client, project, token, fleet):
    base = f"/api/v1/projects/{project.pk}/health/metrics/battery_soc_pct/series/"

    rows = client.get(f"{base}?split_by=none", headers=token).json()

    assert sum(r["count"] for r in rows) == 4
    assert all(r["p50"] == pytest.approx(50, rel=0.01) for r in rows)
    assert {r["group"] for r in rows} == {None}
    assert client.get(f"{base}?split_by=colour", headers=token).status_code == 400


@pytest.mark.parametrize("series", ["daily", "series"])
def test_it_answers_404_for_a_metric_the_registry_does_not_have(client, project, token, series):
    base = f"/api/v1/projects/{project.pk}/health/metrics/no_such_metric/{series}/"

    assert client.get(base, headers=token).status_code == 404
    assert client.get(f"{base}?days=0", headers=token).status_code == 404


def test_a_member_edits_a_registry_entry_and_a_viewer_may_not(
    client, bob_token, victor_token, project
):
    from dre.health.models import Metric

    Metric.objects.create(project=project, key="cpu_pct", display_name="cpu_pct")
    url = f"/api/v1/projects/{project.pk}/health/metrics/cpu_pct/"
    change = {"display_name": "CPU", "unit": "%", "range_min": 0, "range_max": 100}
    change["filter_out_of_range"] = True

    as_viewer, as_member = bearer(victor_token), bearer(bob_token)
    refused = client.patch(url, change, content_type="application/json", headers=as_viewer)
    response = client.patch(url, change, content_type="application/json", headers=as_member)

    assert refused.status_code == 403
    assert response.status_code == 200, response.content
    assert response.json()["range_max"] == 100
    metric = Metric.objects.get(key="cpu_pct")
    assert (metric.display_name, metric.unit, metric.filter_out_of_range) == ("CPU", "%", True)


def test_it_refuses_a_range_whose_minimum_exceeds_its_maximum(client, project, token):
    from dre.health.models import Metric

    Metric.objects.create(project=project, key="cpu_pct", display_name="cpu_pct")
    url = f"/api/v1/projects/{project.pk}/health/metrics/cpu_pct/"

    response = client.patch(
        url, {"range_min": 5, "range_max": 1}, content_type="application/json", headers=token
    )

    assert response.status_code == 400
    assert "range_min" in str(response.json())


def test_it_lists_a_devices_latest_attribute_values(client, project, token, send):
    send(sdk_event(1, heartbeat_info({"modem_fw": "2.0"}), captured_at=int(time.time())))
    device = Device.objects.get()

    url = f"/api/v1/projects/{project.pk}/devices/{device.pk}/metric-values/"
    rows = client.get(url, headers=token).json()["results"]

    assert [(r["key"], r["value"]) for r in rows] == [("modem_fw", "2.0")]


def test_stability_carries_battery_and_connectivity(client, project, token, fleet):
    (row,) = client.get(f"/api/v1/projects/{project.pk}/health/stability/", headers=token).json()

    assert row["battery"]["soc_drop_per_hour"] is None  # the fleet sent no discharge data
    assert row["connectivity"]["sample"] == 0


def test_the_schema_describes_the_explorer_and_registry_endpoints(client, token):
    schema = client.get("/api/v1/schema/", headers=token).content.decode()

    for path in ("/health/metrics/{key}/series/", "/health/metrics/{key}/", "/metric-values/"):
        assert path in schema

"""Metric monitor pages: members add monitors, everyone reads incidents and their
timelines."""

import pytest

from dre.monitors.models import Incident, Monitor
from tests.dre.monitors.conftest import heartbeat

pytestmark = pytest.mark.django_db
URL = "/acme/sensors/incidents/"


def test_bob_adds_a_device_monitor_and_reads_the_incident_it_opens(
    client,
    bob,
    project,
    send,
):
    client.force_login(bob)
    form = {"name": "hot battery", "kind": "device", "metric_key": "battery_temp",
            "aggregate": "avg", "operator": ">", "threshold": "50", "window_seconds": "3600",
            "every_seconds": "300", "min_devices": "1", "start_delay_seconds": "0",
            "end_delay_seconds": "0"}  # fmt: skip
    assert client.post("/acme/sensors/monitors/", form).status_code == 302
    assert Monitor.objects.get().describe() == "battery_temp > 50"

    send(heartbeat(1, battery_temp=72))
    page = client.get(URL).content.decode()
    for shown in ("hot battery", "dev-1", "alerting"):
        assert shown in page

    incident = Incident.objects.get()
    detail = client.get(f"{URL}{incident.pk}/").content.decode()
    assert "battery_temp &gt; 50: 72" in detail
    assert 'id="timeline"' in detail


def test_a_monitor_form_says_what_is_wrong(client, bob, project):
    client.force_login(bob)
    form = {"name": "x", "kind": "fleet", "metric_key": "t", "aggregate": "avg",
            "operator": ">", "threshold": "1", "window_seconds": "5", "every_seconds": "300",
            "min_devices": "1", "start_delay_seconds": "0", "end_delay_seconds": "0"}  # fmt: skip
    response = client.post("/acme/sensors/monitors/", form)
    assert response.status_code == 200
    assert "at least 60 seconds" in response.content.decode()
    assert not Monitor.objects.exists()


def test_victor_reads_incidents_but_cannot_add_monitors(client, victor, project):
    client.force_login(victor)
    assert client.get(URL).status_code == 200
    assert client.post("/acme/sensors/monitors/", {}).status_code == 403


def test_charlie_sees_no_incidents_of_acme(client, charlie, project):
    client.force_login(charlie)
    assert client.get(URL).status_code == 404

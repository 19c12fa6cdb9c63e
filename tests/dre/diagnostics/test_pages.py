"""The device page, the issue pages of trace events and a trace page's logs."""

import time

import cbor2
import pytest

from dre.crashes.models import Issue
from dre.diagnostics.models import Recording
from dre.ingest import wire
from tests.builders import heartbeat_info, reboot_info, sdk_event
from tests.conftest import bearer
from tests.dre.diagnostics.conftest import (
    APP_LOOP_LR,
    BUILD_ID,
    FMT_SENSOR,
    SENSOR_POLL_PC,
    trace_event_info,
)

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000


@pytest.fixture
def device_history(send, upload_elf):
    """An hour of one device: heartbeats with a string attribute, a reboot, a trace event
    with a compact log, logs and a recording."""
    upload_elf()
    now = int(time.time()) // 60 * 60
    keys = {"build_id_prefix": BUILD_ID[:6]}
    values = {"MemfaultSdkMetric_IntervalMs": HOUR_MS, "battery_soc_pct": 80, "modem_fw": "2.1"}
    send(
        sdk_event(1, heartbeat_info({**values, "modem_fw": "2.0"}), captured_at=now - 7200),
        sdk_event(1, heartbeat_info(values), captured_at=now - 3600),
        sdk_event(2, reboot_info(0x8008), captured_at=now - 3000),
        sdk_event(
            2,
            trace_event_info(2, pc=SENSOR_POLL_PC, lr=APP_LOOP_LR, status=-5),
            captured_at=now - 600,
            **keys,
        ),
        sdk_event(4, [2, cbor2.dumps([FMT_SENSOR, "imu", 250, -5])], captured_at=now - 500, **keys),
    )
    send(
        sdk_event(5, {2: ["text/plain"], 3: "uart dump", 4: b"hello"}, captured_at=now - 60),
        message_type=wire.MessageType.CDR,
    )


def test_the_device_page_shows_attributes_and_a_timeline_of_every_kind(client, bob, device_history):
    client.force_login(bob)

    page = client.get("/acme/sensors/devices/dev-1/").content.decode()

    assert 'data-testid="attributes"' in page
    assert "modem_fw" in page
    assert "2.1" in page
    for kind in ("heartbeat", "reboot", "trace_event", "logs", "recording"):
        assert f'class="timeline-{kind}"' in page, kind
    assert "Trace event sensor_timeout (status -5) in sensor_poll" in page
    assert "sensor imu timed out after 250 ms (status 0xfffffffb)" in page
    recording = Recording.objects.get()
    assert f"/acme/sensors/recordings/{recording.pk}/download" in page


def test_the_issue_list_marks_and_filters_trace_event_issues(client, bob, device_history):
    client.force_login(bob)

    listed = client.get("/acme/sensors/issues/?kind=trace_event").content.decode()
    crashes_only = client.get("/acme/sensors/issues/?kind=crash").content.decode()

    assert 'data-testid="kind-trace-event"' in listed
    assert "sensor_timeout" in listed
    assert "sensor_timeout" not in crashes_only


def test_a_trace_event_issue_page_shows_its_occurrences_and_grouping(client, bob, device_history):
    client.force_login(bob)
    issue = Issue.objects.get(kind=Issue.Kind.TRACE_EVENT)

    page = client.get(f"/acme/sensors/issues/{issue.pk}/").content.decode()

    assert 'data-testid="latest-trace-event"' in page
    assert 'data-testid="trace-events"' in page
    assert "sensor_poll" in page
    assert "app_loop" in page
    assert "where the trace event was recorded (PC)" in page
    assert "status code of the call site" in page


def test_the_api_lists_trace_events_timeline_and_attributes(
    client, project, org_token, device_history
):
    from dre.fleet.models import Device

    token = bearer(org_token)
    device = Device.objects.get(serial="dev-1")
    base = f"/api/v1/projects/{project.pk}"

    events = client.get(f"{base}/trace-events/?device={device.pk}", headers=token).json()
    timeline = client.get(f"{base}/devices/{device.pk}/timeline/", headers=token).json()
    attributes = client.get(f"{base}/devices/{device.pk}/attributes/", headers=token).json()
    lines = client.get(f"{base}/log-lines/?device={device.pk}", headers=token).json()
    issues = client.get(f"{base}/issues/?kind=trace_event", headers=token).json()

    (event,) = events["results"]
    assert (event["reason_name"], event["status_code"]) == ("sensor_timeout", -5)
    assert event["pc_location"]["function"] == "sensor_poll"
    assert [i["kind"] for i in timeline][:3] == ["recording", "logs", "trace_event"]
    assert attributes == [
        {
            "key": "modem_fw",
            "display_name": "modem_fw",
            "value": "2.1",
            "unit": "",
            "reported": attributes[0]["reported"],
        }
    ]
    assert lines["results"][0]["status"] == "formatted"
    assert [i["kind"] for i in issues["results"]] == ["trace_event"]


def test_the_api_refuses_a_malformed_filter(client, project, org_token):
    token = bearer(org_token)

    response = client.get(f"/api/v1/projects/{project.pk}/issues/?kind=bogus", headers=token)
    devices = client.get(f"/api/v1/projects/{project.pk}/trace-events/?device=x", headers=token)

    assert response.status_code == 400
    assert "kind" in response.json()
    assert devices.status_code == 400


def test_the_openapi_schema_describes_the_diagnostics_endpoints(client, alice):
    client.force_login(alice)

    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).content.decode()

    for path in ("trace-events", "log-lines", "recordings/{id}/download", "timeline", "attributes"):
        assert path in schema, path

"""End to end through the chunk endpoint: the fleet firmware's captured chunks
(tests/fixtures/an385_fleet) and its ELF become named metrics, sessions, named reboots,
trace events with reason names and stability numbers, exactly as the firmware computed
them (tests/fleet_expectations.py). Tasks run in-process here; tests/integration runs
the same through a live server and a real worker. Each test replays the whole run, so
there are few of them."""

import cbor2
import pytest

from dre import blobs
from dre.fleet.models import Device
from dre.health.models import HeartbeatInterval, Metric, Reboot
from dre.health.rollups import rollup_dirty_days
from dre.health.selectors import stability_by
from dre.ingest.models import DeviceMessage, Event
from dre.symbols.services import symbol_file_ingest
from tests import fleet_expectations as expected
from tests.firmware_fixtures import FLEET_SERIAL, fleet_chunks, fleet_elf_path

pytestmark = pytest.mark.django_db
MESSAGES = 22  # 4 reboots, 4 trace events, 8 heartbeats and sessions, 5 logs, 1 CDR


@pytest.fixture
def device_ran(project, run_on_commit, post_chunks):
    """Upload the ELF, then post every chunk in the order the device exported them."""
    elf = fleet_elf_path().read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), elf)
    run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")
    post_chunks(fleet_chunks(), serial=FLEET_SERIAL)
    return Device.objects.get(project=project, serial=FLEET_SERIAL)


def test_heartbeats_and_sessions_get_the_names_and_values_the_firmware_computed(
    device_ran, project
):
    messages = DeviceMessage.objects.filter(device=device_ran)
    assert [m.status for m in messages] == [DeviceMessage.Status.ACCEPTED] * MESSAGES

    intervals = HeartbeatInterval.objects.filter(device=device_ran)
    assert {i.state for i in intervals} == {HeartbeatInterval.State.RESOLVED}
    assert {i.ended: (i.session, i.values) for i in intervals} == expected.heartbeats()
    for interval in intervals:
        assert interval.duration_ms == interval.values["MemfaultSdkMetric_IntervalMs"]
        assert (interval.ended - interval.started).total_seconds() * 1000 == interval.duration_ms

    metrics = {m.key: m for m in Metric.objects.filter(project=project)}
    assert {key: metrics[key].type for key in expected.METRIC_TYPES} == expected.METRIC_TYPES
    assert metrics["cpu_usage_pct"].scale == 100
    assert len(metrics) == 19  # 20 keys; IntervalMs is in both sessions


def test_reboots_are_named_and_trace_events_stored_with_their_elfs_reason_names(
    device_ran, client, alice
):
    reboots = Reboot.objects.filter(device=device_ran).order_by("time", "pk")
    assert [(r.time, r.reason_name, r.unexpected, r.pc, r.lr) for r in reboots] == (
        expected.reboots()
    )

    traces = Event.objects.filter(device=device_ran, kind=Event.Kind.TRACE).order_by("captured")
    assert [
        (e.captured, e.data["info"]["pc"], e.data["info"]["lr"], e.data["info"]["status_code"])
        for e in traces
    ] == [(t, pc, lr, status) for t, _, pc, lr, status in expected.trace_events()]

    client.force_login(alice)
    page = client.get(f"/acme/sensors/devices/{FLEET_SERIAL}/").content.decode()
    for title in expected.trace_event_titles():
        assert title in page
    for _, name, *_ in expected.reboots():
        assert name in page


def test_logs_are_kept_line_by_line_compact_ones_with_their_format_id(device_ran):
    # Rendering compact logs through log_fmt is not in dre yet: the line keeps the CBOR
    # [format id, args...] as bytes, preformatted lines their text.
    events = Event.objects.filter(device=device_ran, kind=Event.Kind.LOGS).order_by("pk")
    stored = [line for e in events for line in e.data["info"]["lines"]]
    sent = expected.log_lines()
    assert len(stored) == len(sent) == 11
    for line, want in zip(stored, sent, strict=True):
        assert line["level"] == want["level"]
        assert line["timestamp"] == want.get("time")
        if want["kind"] == "compact":
            assert cbor2.loads(bytes.fromhex(line["message"]["hex"]))[0] == want["format_id"]
        else:
            assert line["message"] == want["text"]


def test_the_custom_data_recording_is_kept_with_its_mime_type_and_reason(device_ran):
    (event,) = Event.objects.filter(device=device_ran, kind=Event.Kind.CDR)
    (sent,) = expected.recordings()
    info = event.data["info"]
    assert (info["duration_ms"], info["mimetypes"], info["reason"]) == (
        sent["duration_ms"],
        sent["mimetypes"],
        sent["reason"],
    )
    assert bytes.fromhex(info["data"]["hex"]).decode() == sent["data"]


def test_stability_counts_what_the_firmware_counted(device_ran, project):
    rollup_dirty_days()

    (row,) = stability_by(project, "software_version")
    want = expected.stability()
    assert row.crash_free_hours.sample == want["operational_hours"]
    assert row.crash_free_hours.value == want["crashfree_hours"] / want["operational_hours"]
    assert row.crash_free_sessions.sample == want["sessions"]
    assert row.crash_free_sessions.value == 1 - want["crashed_sessions"] / want["sessions"]
    # The Assert ended a CLI session and is counted by the heartbeat after it: one reboot.
    assert (row.unexpected_reboots, row.expected_reboots) == (
        want["unexpected_reboots"],
        want["expected_reboots"],
    )

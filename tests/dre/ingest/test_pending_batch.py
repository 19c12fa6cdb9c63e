"""A worker applies a group commit's pending chunks, of many devices, as one batch: what
it stores is what the request path would have stored, each heartbeat once."""

from datetime import UTC, datetime

import pytest

from dre.fleet.models import Device
from dre.health.models import DirtyDay, HeartbeatInterval, Reboot
from dre.ingest import services
from dre.ingest.models import DeviceMessage, Event, PendingChunks
from dre.ingest.pending import pending_chunks_apply
from tests.builders import event_chunks, heartbeat_info, reboot_info, sdk_event
from tests.dre.health.conftest import DAY_START
from tests.dre.health.test_names_from_elf import VALUES, positional, upload_elf

pytestmark = pytest.mark.django_db
HOUR = 3600
NAMED = {"MemfaultSdkMetric_IntervalMs": 3_600_000, "battery_soc_pct": 80}


def heartbeat(at=DAY_START + HOUR, **values):
    return sdk_event(1, heartbeat_info(values or NAMED), captured_at=at)


def pending(project, serial, *events) -> int:
    chunks = event_chunks(*events, chunk_size=1024)
    row = PendingChunks.objects.create(
        project=project, device_serial=serial, chunks=services.frame(chunks)
    )
    return row.pk


def test_it_stores_the_heartbeats_of_many_devices_in_one_batch(project):
    ids = [pending(project, f"dev-{n}", heartbeat()) for n in range(3)]

    assert pending_chunks_apply(ids) == 3

    intervals = HeartbeatInterval.objects.order_by("device__serial")
    assert [i.device.serial for i in intervals] == ["dev-0", "dev-1", "dev-2"]
    first = intervals[0]
    assert first.state == HeartbeatInterval.State.RESOLVED
    assert first.values == NAMED
    assert first.ended == datetime.fromtimestamp(DAY_START + HOUR, tz=UTC)
    assert first.duration_ms == 3_600_000
    assert first.started == datetime.fromtimestamp(DAY_START, tz=UTC)
    assert first.source_event_id == Event.objects.get(device=first.device).pk
    assert DeviceMessage.objects.filter(status=DeviceMessage.Status.ACCEPTED).count() == 3
    assert DirtyDay.objects.filter(project=project, day=first.day).exists()
    assert not PendingChunks.objects.exists()


def test_the_devices_record_the_versions_their_heartbeats_name(project):
    pending_chunks_apply([pending(project, "dev-1", heartbeat())])

    device = Device.objects.select_related("software_version", "hardware_version").get()
    assert device.software_version.version == "1.0.0"
    assert device.hardware_version.name == "evt_1"


def test_an_event_that_names_no_version_keeps_the_one_an_earlier_event_named(project):
    named = sdk_event(1, heartbeat_info(NAMED), software_version="2.0.0", captured_at=DAY_START)
    unnamed = sdk_event(1, heartbeat_info(NAMED), software_version="", captured_at=DAY_START + 1)

    pending_chunks_apply([pending(project, "dev-1", named, unnamed)])

    assert Device.objects.select_related("software_version").get().software_version.version == (
        "2.0.0"
    )


def test_a_heartbeat_sent_twice_is_stored_once(project):
    pending_chunks_apply([pending(project, "dev-1", heartbeat())])
    again = [pending(project, "dev-1", heartbeat()), pending(project, "dev-1", heartbeat())]

    pending_chunks_apply(again)

    assert HeartbeatInterval.objects.count() == 1
    assert Event.objects.count() == 3  # ingest's log keeps every event it was sent


def test_a_devices_heartbeats_apply_in_the_order_they_arrived(project):
    ids = [pending(project, "dev-1", heartbeat(DAY_START + n * HOUR)) for n in (1, 2, 3)]

    pending_chunks_apply(ids[:1])  # the device's later rows go with it

    events = Event.objects.order_by("pk").values_list("captured", flat=True)
    assert [e.timestamp() for e in events] == [DAY_START + n * HOUR for n in (1, 2, 3)]


def test_positional_heartbeats_are_named_before_they_are_stored(project, run_on_commit):
    upload_elf(project, run_on_commit)

    pending_chunks_apply([pending(project, "dev-1", positional())])

    interval = HeartbeatInterval.objects.get()
    assert interval.state == HeartbeatInterval.State.RESOLVED
    assert interval.positional == VALUES
    assert interval.values  # named by the ELF, no task needed


def test_positional_heartbeats_wait_for_their_elf(project, run_on_commit):
    pending_chunks_apply([pending(project, "dev-1", positional())])

    assert HeartbeatInterval.objects.get().state == HeartbeatInterval.State.AWAITING_SYMBOLS


def test_a_device_with_a_partial_message_in_its_stream_is_applied_one_by_one(project):
    part = event_chunks(heartbeat(DAY_START), chunk_size=20)[0]
    services.chunks_ingest(project, "dev-1", [part])  # the start of a message, kept

    pending_chunks_apply([pending(project, "dev-1", heartbeat())])

    assert HeartbeatInterval.objects.count() == 1
    rejected = DeviceMessage.objects.get(status=DeviceMessage.Status.REJECTED)
    assert "abandoned" in rejected.error


def test_other_events_of_a_batch_go_to_their_apps_as_from_a_request(project):
    reboot = sdk_event(2, reboot_info(0x8001), software_version="2.0.0", captured_at=DAY_START)

    pending_chunks_apply([pending(project, "dev-1", heartbeat(), reboot)])

    stored = Reboot.objects.select_related("software_version").get()
    assert stored.unexpected
    assert stored.software_version.version == "2.0.0"
    assert stored.source_event_id == Event.objects.get(kind=Event.Kind.REBOOT).pk
    assert HeartbeatInterval.objects.count() == 1


def test_a_heartbeat_sent_twice_in_one_batch_is_stored_once(project):
    ids = [pending(project, "dev-1", heartbeat()), pending(project, "dev-1", heartbeat())]

    pending_chunks_apply(ids)

    interval = HeartbeatInterval.objects.get()
    assert interval.source_event_id == Event.objects.order_by("pk").first().pk

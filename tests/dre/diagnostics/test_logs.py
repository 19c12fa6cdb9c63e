"""Logs: preformatted lines as sent, compact lines rendered through the ELF's log_fmt,
and a log buffer sent right after a coredump belongs to that coredump."""

import cbor2
import pytest

from dre.crashes.services import coredump_ingest_bytes
from dre.diagnostics.models import LogLine, State
from dre.ingest import wire
from tests.builders import minimal_coredump, sdk_event
from tests.dre.diagnostics.conftest import BUILD_ID, DAY_START, FMT_METRIC, FMT_SENSOR, FMT_TEMP

pytestmark = pytest.mark.django_db


def logs(*lines, timestamped=False, **keys):
    """A log event (type 4: [level, msg, ...]; type 6: [timestamp, level, msg, ...])."""
    keys.setdefault("build_id_prefix", BUILD_ID[:6])
    flat = [value for line in lines for value in line]
    return sdk_event(6 if timestamped else 4, flat, **keys)


def compact(format_id, *args) -> bytes:
    """The SDK stores a compact line as the CBOR of [format_id, args...] in a byte string."""
    return cbor2.dumps([format_id, *args])


def texts():
    return list(LogLine.objects.order_by("position").values_list("level", "text", "status"))


def test_it_keeps_preformatted_lines_in_order(send):
    send(logs((1, "boot ok"), (3, "flash write failed"), captured_at=DAY_START))

    assert texts() == [(1, "boot ok", "preformatted"), (3, "flash write failed", "preformatted")]
    assert LogLine.objects.get(position=1).level_name == "Error"


def test_it_renders_compact_lines_through_log_fmt(send, upload_elf):
    upload_elf()
    send(
        logs(
            (1, compact(FMT_METRIC, "MemfaultSDKMetric_log_recorded_lines", 9)),
            (2, compact(FMT_SENSOR, "imu", 250, -2)),
            (1, compact(FMT_TEMP, 21.55)),
        )
    )

    assert texts() == [
        (1, "  MemfaultSDKMetric_log_recorded_lines: 9", "formatted"),
        (2, "sensor imu timed out after 250 ms (status 0xfffffffe)", "formatted"),
        (1, "temperature 21.6 C", "formatted"),
    ]
    line = LogLine.objects.get(position=1)
    assert (line.detail["file"], line.detail["line"]) == ("src/sensor.c", 42)


def test_compact_lines_wait_for_their_elf(send, upload_elf):
    send(logs((1, "preformatted"), (1, compact(FMT_TEMP, 20.0))))
    assert list(LogLine.objects.values_list("state", flat=True).order_by("position")) == [
        State.RESOLVED,
        State.AWAITING_SYMBOLS,
    ]

    upload_elf()

    assert texts()[1] == (1, "temperature 20.0 C", "formatted")


def test_a_line_that_does_not_fit_its_format_is_shown_raw_with_the_reason(send, upload_elf):
    upload_elf()
    send(logs((1, compact(FMT_TEMP, "hot")), (1, compact(0x5000)), (1, b"\xff\xfe")))

    lines = list(LogLine.objects.order_by("position"))
    assert (lines[0].status, lines[0].text) == ("argument_mismatch", "temperature %.1f C ['hot']")
    assert lines[0].detail["reason"] == "%f got a str"
    assert (lines[1].status, lines[1].text) == ("unknown_format", "<format 0x5000> []")
    assert lines[2].status == "malformed"


def test_timestamped_lines_keep_their_own_time(send):
    send(logs((DAY_START + 5, 1, "a"), (0, 1, "b"), timestamped=True, captured_at=DAY_START))

    first, second = LogLine.objects.order_by("position")
    assert first.time.timestamp() == DAY_START + 5
    assert second.time.timestamp() == DAY_START  # 0: unknown, the event's capture time


def test_a_log_buffer_sent_after_a_coredump_belongs_to_it(send, project):
    from dre.fleet.services import device_seen

    device = device_seen(project, "dev-1")
    coredump = coredump_ingest_bytes(project, minimal_coredump(), source="chunks", device=device)
    send(logs((3, "about to crash")), message_type=wire.MessageType.LOG)
    send(logs((1, "later, from an event message")))

    collected, plain = LogLine.objects.order_by("source_event_id")
    assert (collected.coredump_id, collected.collected) == (coredump.pk, True)
    assert (plain.coredump_id, plain.collected) == (None, False)


def test_a_level_no_sdk_sends_is_refused_and_kept_in_the_event_log(send):
    from dre.ingest.models import Event

    send(logs((1 << 40, "odd")))

    assert not LogLine.objects.exists()
    assert Event.objects.get().kind == Event.Kind.LOGS


def test_a_line_time_no_calendar_holds_falls_back_to_the_event_time(send):
    send(logs(((1 << 62), 1, "garbled clock"), timestamped=True, captured_at=DAY_START))

    assert LogLine.objects.get().time.timestamp() == DAY_START

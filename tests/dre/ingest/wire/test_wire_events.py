"""CBOR events (reference §2.4, §2.5)."""

import re
from datetime import UTC, datetime
from pathlib import Path

import cbor2
import pytest

from dre.ingest.wire import (
    CustomDataRecording,
    EventError,
    EventType,
    Heartbeat,
    LogLine,
    Logs,
    RebootEvent,
    TraceEvent,
    UnknownEventInfo,
    decode_events,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"
TEST_PATTERN_PAYLOAD = (FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()[2:-2]

# The envelope every SDK event starts with, as in the SDK's serializer unit tests.
ENVELOPE = {2: 1, 3: 1, 10: "main", 9: "1.2.3", 6: "evt_24"}


def event(event_type, info, **keys):
    return {**ENVELOPE, 2: event_type, 4: info, **{int(k[1:]): v for k, v in keys.items()}}


def test_it_decodes_memfault_test_pattern_heartbeat_with_named_metrics():
    (decoded,) = decode_events(TEST_PATTERN_PAYLOAD)
    assert decoded.type == EventType.HEARTBEAT
    assert decoded.schema_version == 1
    assert decoded.info == Heartbeat(session_index=None, metrics={"chunk_test_success": 1})
    assert decoded.software_version == "1.0.0-test"
    assert decoded.software_type == "test-software"
    assert decoded.hardware_version == "test-hardware"
    assert decoded.device_serial == "TESTSERIAL"
    assert decoded.extra == {}


def test_it_decodes_a_positional_heartbeat_as_the_sdk_serializes_it():
    """Bytes from the SDK's `test_memfault_metrics_serializer.cpp`: values by position,
    null for metrics never set."""
    payload = bytes.fromhex(
        "a6 02 01 03 01 0a 64 6d61696e 09 65 312e322e33 06 66 6576745f3234"
        " 04 a2 02 01 01 86 19 03e8 f6 39 03e7 f6 19 04d2 6e 3132333435363738396162636465"
    )
    (decoded,) = decode_events(payload)
    assert decoded.info == Heartbeat(
        session_index=1, positional_metrics=[1000, None, -1000, None, 1234, "123456789abcde"]
    )
    assert (decoded.software_type, decoded.software_version) == ("main", "1.2.3")
    assert decoded.hardware_version == "evt_24"


def test_it_decodes_a_batch_of_events():
    """With batching on, the message is a CBOR array header followed by N event maps."""
    payload = cbor2.dumps([event(1, {2: 0, 1: [5]}), event(2, {1: 3, 5: 0})])
    first, second = decode_events(payload)
    assert first.info == Heartbeat(session_index=0, positional_metrics=[5])
    assert second.info == RebootEvent(reason=3, coredump_saved=False)


def test_it_decodes_a_reboot_event():
    info = {1: 0x8008, 2: 0x0800_1234, 3: 0x0800_5679, 4: 0x0C, 5: 1}
    (decoded,) = decode_events(cbor2.dumps(event(2, info, k1=1_700_000_000, k11=b"\x01" * 6)))
    assert decoded.info == RebootEvent(
        reason=0x8008, pc=0x0800_1234, lr=0x0800_5679, mcu_reason_register=0x0C, coredump_saved=True
    )
    assert decoded.captured_at == 1_700_000_000
    assert decoded.build_id_prefix == b"\x01" * 6


def test_it_decodes_a_user_trace_event():
    info = {6: 2, 2: 0x0800_0100, 3: 0x0800_0200, 7: -5, 8: b"disk full"}
    (decoded,) = decode_events(cbor2.dumps(event(2, info)))
    assert decoded.info == TraceEvent(
        user_reason=2, pc=0x0800_0100, lr=0x0800_0200, status_code=-5, log=b"disk full"
    )


def test_it_decodes_logs_as_the_sdk_serializes_them():
    """Bytes from the SDK's `test_memfault_log_data_source.cpp` (event type 4)."""
    payload = bytes.fromhex(
        "a7 02 04 03 01 0a 64 6d61696e 09 65 312e322e33 06 66 6576745f3234 01 00"
        " 04 88 00 65 6465627567 01 64 696e666f 02 67 7761726e696e67 03 65 6572726f72"
    )
    (decoded,) = decode_events(payload)
    assert decoded.info == Logs(
        [LogLine(0, "debug"), LogLine(1, "info"), LogLine(2, "warning"), LogLine(3, "error")]
    )
    assert decoded.captured_at == 0


def test_it_decodes_timestamped_logs_as_the_sdk_serializes_them():
    """Type 6 repeats [timestamp, level, message] for every line."""
    payload = bytes.fromhex(
        "a7 02 06 03 01 0a 64 6d61696e 09 65 312e322e33 06 66 6576745f3234 01 1a 12345678"
        " 04 8c 1a 12345678 00 65 6465627567 1a 12345678 01 64 696e666f"
        " 1a 12345678 02 67 7761726e696e67 1a 12345678 03 65 6572726f72"
    )
    (decoded,) = decode_events(payload)
    assert decoded.type == EventType.LOGS_TIMESTAMPED
    assert [line.timestamp for line in decoded.info.lines] == [0x12345678] * 4
    assert [line.message for line in decoded.info.lines] == ["debug", "info", "warning", "error"]


def test_it_keeps_compact_log_messages_as_bytes_and_unknown_timestamps_as_none():
    (decoded,) = decode_events(cbor2.dumps(event(6, [0, 2, b"\x82\x0a\x01"])))
    assert decoded.info == Logs([LogLine(level=2, message=b"\x82\x0a\x01", timestamp=None)])


def test_it_decodes_a_custom_data_recording():
    info = {1: 5000, 2: ["application/octet-stream"], 3: "audio glitch", 4: b"\x00\x01\x02"}
    (decoded,) = decode_events(cbor2.dumps(event(5, info)))
    assert decoded.info == CustomDataRecording(
        data=b"\x00\x01\x02",
        duration_ms=5000,
        mimetypes=["application/octet-stream"],
        reason="audio glitch",
    )


def test_it_keeps_unknown_keys_in_extra():
    payload = cbor2.dumps(event(2, {1: 1, 5: 0, 42: "new"}, k5={"user": 1}, k12=[1, 2]))
    (decoded,) = decode_events(payload)
    assert decoded.extra == {5: {"user": 1}, 12: [1, 2]}
    assert decoded.info.extra == {42: "new"}


def test_it_keeps_the_body_of_an_event_type_it_does_not_decode():
    (decoded,) = decode_events(cbor2.dumps(event(3, {"anything": [1]})))
    assert decoded.type == 3
    assert decoded.info == UnknownEventInfo({"anything": [1]})


def test_it_rejects_malformed_cbor():
    with pytest.raises(EventError, match="malformed CBOR"):
        decode_events(TEST_PATTERN_PAYLOAD[:-5])


def test_it_rejects_invalid_utf8_in_a_text_string():
    with pytest.raises(EventError, match="malformed CBOR"):
        decode_events(b"\xa1\x09\x62\xff\xfe")


def test_it_rejects_bytes_after_the_cbor_value():
    payload = cbor2.dumps(event(4, [1, "x" * 5000]))
    with pytest.raises(EventError, match="3 bytes follow the CBOR value"):
        decode_events(payload + b"\xba\xba\xba")


def test_it_rejects_duplicate_keys():
    with pytest.raises(EventError, match="malformed CBOR"):
        decode_events(b"\xa2\x02\x01\x02\x02")


def test_it_rejects_cbor_tags_the_sdk_never_sends():
    """Tags 28/29 (shared references) can even build a list that contains itself."""
    with pytest.raises(EventError, match="deeper than"):
        decode_events(bytes([0xD8, 28, 0x81, 0xD8, 29, 0x00]))
    with pytest.raises(EventError, match="datetime"):
        decode_events(cbor2.dumps(event(1, {1: []}, k1=datetime(2024, 1, 1, tzinfo=UTC))))


def test_it_rejects_an_unsupported_schema_version():
    with pytest.raises(EventError, match="schema version 2 is not supported"):
        decode_events(cbor2.dumps({**event(1, {1: []}), 3: 2}))


def test_it_rejects_an_event_without_a_type():
    payload = cbor2.dumps({3: 1, 4: {1: []}})
    with pytest.raises(EventError, match="event 0: key 2 is missing"):
        decode_events(payload)


def test_it_rejects_a_trace_without_a_reason():
    with pytest.raises(EventError, match=re.escape("key 1 (reboot reason) or key 6")):
        decode_events(cbor2.dumps(event(2, {2: 0x1234})))


def test_it_rejects_a_value_of_the_wrong_type():
    with pytest.raises(EventError, match="event 0: key 9 holds an unexpected int"):
        decode_events(cbor2.dumps({**event(1, {1: []}), 9: 3}))


def test_it_rejects_a_boolean_where_an_integer_belongs():
    with pytest.raises(EventError, match="key 1 holds an unexpected bool"):
        decode_events(cbor2.dumps(event(2, {1: True})))


def test_it_rejects_a_negative_reboot_reason():
    with pytest.raises(EventError, match="negative integer"):
        decode_events(cbor2.dumps(event(2, {1: -1})))


def test_it_rejects_a_batch_holding_something_other_than_maps():
    with pytest.raises(EventError, match="event 1 should be a map, not int"):
        decode_events(cbor2.dumps([event(1, {1: []}), 7]))


def test_it_rejects_logs_that_are_not_level_message_pairs():
    with pytest.raises(EventError, match=re.escape("flat array of (level, message) groups")):
        decode_events(cbor2.dumps(event(4, [1, "a", 2])))
    with pytest.raises(EventError, match="unsigned level"):
        decode_events(cbor2.dumps(event(4, ["a", 1])))


def test_it_rejects_heartbeat_metrics_that_are_neither_array_nor_named_map():
    with pytest.raises(EventError, match="metrics should be an array or a map"):
        decode_events(cbor2.dumps(event(1, {1: {3: 1}})))


def test_it_rejects_a_map_key_that_is_an_array():
    with pytest.raises(EventError, match="holds a tuple"):
        decode_events(bytes([0xA1, 0x81, 0x01, 0x02]))

"""Memfault's published test patterns for its chunks endpoint, decoded end to end:
chunks -> message -> CBOR event (reference §2.1-2.5). Posting any of the three forms to
/api/v0/chunks/TESTSERIAL must yield one heartbeat with chunk_test_success = 1."""

from pathlib import Path

import pytest

from dre.ingest.wire import (
    IDLE,
    Event,
    EventType,
    MessageType,
    chunks_from_console,
    decode_events,
    parse_message,
    reassemble,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"
LIMIT = 1 << 20

FORMS = {
    "single chunk": [(FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()],
    "two chunks": [
        (FIXTURES / "chunk_v2_chunk_msg_pt1_of_2.bin").read_bytes(),
        (FIXTURES / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes(),
    ],
    "console export": chunks_from_console((FIXTURES / "test-pattern-data-export.txt").read_text()),
}


def decode(chunks: list[bytes]) -> list[Event]:
    result = reassemble(chunks, max_message_length=LIMIT)
    assert result.state == IDLE
    (raw_message,) = result.messages
    message = parse_message(raw_message, max_payload_size=LIMIT)
    assert message.type is MessageType.EVENT
    return decode_events(message.payload)


@pytest.mark.parametrize("chunks", FORMS.values(), ids=FORMS.keys())
def test_it_decodes_memfault_test_pattern_into_one_heartbeat(chunks):
    (event,) = decode(chunks)
    assert event.type == EventType.HEARTBEAT
    assert event.info.metrics == {"chunk_test_success": 1}
    assert event.software_version == "1.0.0-test"
    assert event.software_type == "test-software"
    assert event.hardware_version == "test-hardware"
    assert event.device_serial == "TESTSERIAL"


def test_it_decodes_every_form_of_the_test_pattern_to_the_same_event():
    single, two_part, console = (decode(chunks) for chunks in FORMS.values())
    assert single == two_part == console

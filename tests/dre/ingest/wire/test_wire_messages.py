"""Packetizer messages (reference §2.1)."""

from pathlib import Path

import pytest

from dre.ingest.wire import (
    MessageError,
    MessageType,
    RleExpansionLimit,
    UnknownMessageType,
    encode_message,
    parse_message,
    rle_encode,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"
MESSAGE = (FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()[1:-2]
KEY = "0123456789abcdef0123456789abcdef"
LIMIT = 1 << 20


def test_it_parses_the_event_message_of_memfault_test_pattern():
    message = parse_message(MESSAGE, max_payload_size=LIMIT)
    assert message.type is MessageType.EVENT
    assert message.payload == MESSAGE[1:]
    assert (message.project_key, message.rle) == (None, False)


def test_it_undoes_the_rle_of_a_coredump_message():
    """Coredumps are RLE-encoded by default, so their header byte is 0x81."""
    coredump = b"CORE" + bytes(1000) + b"\x01\x02"
    message = parse_message(b"\x81" + rle_encode(coredump), max_payload_size=LIMIT)
    assert (message.type, message.rle, message.payload) == (MessageType.COREDUMP, True, coredump)


def test_it_bounds_rle_expansion_with_the_payload_limit():
    small = b"\x81" + rle_encode(bytes(100_000))
    assert len(small) < 10
    with pytest.raises(RleExpansionLimit, match="limit of 4096 bytes"):
        parse_message(small, max_payload_size=4096)


def test_it_rejects_a_plain_payload_above_the_limit():
    with pytest.raises(MessageError, match="exceeds 10 bytes"):
        parse_message(b"\x01" + bytes(11), max_payload_size=10)


def test_it_reads_a_project_key_from_the_header():
    """Bit 6 set: sizeof(MEMFAULT_PROJECT_KEY) = 33 bytes (the key and its NUL) follow."""
    raw = b"\x42" + KEY.encode() + b"\x00" + MESSAGE[1:]
    message = parse_message(raw, max_payload_size=LIMIT)
    assert message.type is MessageType.EVENT
    assert message.project_key == KEY
    assert message.payload == MESSAGE[1:]


def test_it_reads_a_project_key_before_an_rle_payload():
    raw = b"\xc1" + KEY.encode() + b"\x00" + rle_encode(bytes(50))
    message = parse_message(raw, max_payload_size=LIMIT)
    assert (message.project_key, message.payload) == (KEY, bytes(50))


def test_it_rejects_a_project_key_that_is_not_32_characters_and_a_nul():
    raw = b"\x42" + b"short-key\x00" + MESSAGE[1:]
    with pytest.raises(MessageError, match="not 32 characters and a NUL"):
        parse_message(raw, max_payload_size=LIMIT)


def test_it_rejects_a_message_ending_inside_the_project_key():
    with pytest.raises(MessageError, match="inside the 33-byte project key"):
        parse_message(b"\x42" + KEY[:10].encode(), max_payload_size=LIMIT)


def test_it_rejects_a_project_key_that_is_not_ascii():
    raw = b"\x42" + "é".encode("latin-1") * 32 + b"\x00"
    with pytest.raises(MessageError, match="not ASCII"):
        parse_message(raw, max_payload_size=LIMIT)


def test_it_keeps_the_bytes_of_an_unknown_message_type():
    raw = b"\x05some payload"
    with pytest.raises(UnknownMessageType, match="unknown message type 5") as excinfo:
        parse_message(raw, max_payload_size=LIMIT)
    assert (excinfo.value.type_id, excinfo.value.data) == (5, raw)


def test_it_rejects_message_type_zero():
    with pytest.raises(UnknownMessageType, match="type 0"):
        parse_message(b"\x80\x01\x01", max_payload_size=LIMIT)


def test_it_rejects_an_empty_message():
    with pytest.raises(MessageError, match="empty"):
        parse_message(b"", max_payload_size=LIMIT)


@pytest.mark.parametrize("message_type", list(MessageType))
def test_it_parses_what_it_encodes(message_type):
    payload = b"\x00" * 20 + b"payload"
    raw = encode_message(message_type, payload, rle=True, project_key=KEY)
    assert raw[0] == message_type | 0x40 | 0x80
    message = parse_message(raw, max_payload_size=LIMIT)
    assert (message.type, message.payload, message.project_key) == (message_type, payload, KEY)


def test_it_refuses_to_encode_a_project_key_of_the_wrong_length():
    with pytest.raises(ValueError, match="32 characters"):
        encode_message(MessageType.EVENT, b"", project_key="short")

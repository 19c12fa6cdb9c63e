"""Chunk headers and splitting (reference §2.2)."""

from pathlib import Path

import pytest

from dre.ingest.wire import ChunkError, crc16_xmodem, encode_chunks, parse_chunk

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"
SINGLE = (FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()
PART_1 = (FIXTURES / "chunk_v2_chunk_msg_pt1_of_2.bin").read_bytes()
PART_2 = (FIXTURES / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes()
MESSAGE = SINGLE[1:-2]


def test_it_parses_memfault_single_chunk_test_pattern():
    """`08`: INIT, CFG 0b001, no more data; the data is the message and its CRC `31 e4`."""
    chunk = parse_chunk(SINGLE)
    assert (chunk.continuation, chunk.more_data, chunk.total_length) == (False, False, None)
    assert len(chunk.data) == 84 + 2
    assert chunk.data[-2:] == b"\x31\xe4"


def test_it_parses_the_init_chunk_of_memfault_two_part_test_pattern():
    """`48 54`: INIT with more data, total message length 0x54 = 84."""
    chunk = parse_chunk(PART_1)
    assert (chunk.continuation, chunk.more_data, chunk.total_length) == (False, True, 84)
    assert chunk.offset == 0
    assert chunk.data == MESSAGE[:44]


def test_it_parses_the_last_continuation_of_memfault_two_part_test_pattern():
    """`80 2c`: the last CONTINUATION, at offset 44, with the CRC at its end."""
    chunk = parse_chunk(PART_2)
    assert (chunk.continuation, chunk.is_last, chunk.offset) == (True, True, 44)
    assert chunk.data == MESSAGE[44:] + b"\x31\xe4"


def test_it_rejects_an_empty_chunk():
    with pytest.raises(ChunkError, match="empty"):
        parse_chunk(b"")


def test_it_rejects_a_channel_other_than_zero():
    with pytest.raises(ChunkError, match="channel 1"):
        parse_chunk(b"\x09" + MESSAGE + b"\x31\xe4")


def test_it_rejects_an_init_chunk_with_the_crc_in_the_init_chunk():
    """CFG 0b000 is defined by the SDK header but no sender uses it."""
    with pytest.raises(ChunkError, match="CFG 0b000"):
        parse_chunk(b"\x00" + MESSAGE + b"\x31\xe4")


def test_it_rejects_a_continuation_with_cfg_bits_set():
    with pytest.raises(ChunkError, match="CFG 0b001"):
        parse_chunk(b"\x88\x2c" + MESSAGE[44:])


def test_it_rejects_a_truncated_offset_varint():
    with pytest.raises(ChunkError, match="offset: varint at offset 1 is truncated"):
        parse_chunk(b"\x80\xff")


def test_it_rejects_an_init_chunk_announcing_an_empty_message():
    with pytest.raises(ChunkError, match="0 bytes"):
        parse_chunk(b"\x48\x00\x02")


def test_it_rejects_a_single_chunk_with_no_room_for_a_crc():
    with pytest.raises(ChunkError, match="no room for a message and a CRC"):
        parse_chunk(b"\x08\x31\xe4")


def test_it_splits_the_test_pattern_message_exactly_like_memfault():
    assert encode_chunks(MESSAGE, chunk_size=46) == [PART_1, PART_2]


def test_it_keeps_a_message_that_fits_in_one_chunk():
    assert encode_chunks(MESSAGE, chunk_size=87) == [SINGLE]


def test_it_sends_the_crc_alone_when_it_does_not_fit_after_the_message():
    """With room for the whole message in the INIT chunk but not the CRC, the SDK sends a
    final continuation at offset == length holding only the CRC."""
    chunks = encode_chunks(MESSAGE, chunk_size=86)
    assert chunks == [b"\x48\x54" + MESSAGE, b"\x80\x54\x31\xe4"]


def test_it_sends_a_whole_message_as_one_chunk_without_a_chunk_size():
    """Multi-call mode: one INIT chunk of any size, `08 | message | crc`."""
    message = b"\x81" + bytes(100_000)
    (chunk,) = encode_chunks(message)
    assert chunk == b"\x08" + message + crc16_xmodem(message).to_bytes(2, "little")


@pytest.mark.parametrize("chunk_size", [9, 10, 20, 45, 80])
def test_it_never_exceeds_the_chunk_size(chunk_size):
    assert all(len(chunk) <= chunk_size for chunk in encode_chunks(MESSAGE, chunk_size=chunk_size))


def test_it_refuses_a_chunk_size_below_the_sdk_minimum():
    with pytest.raises(ValueError, match="at least 9"):
        encode_chunks(MESSAGE, chunk_size=8)

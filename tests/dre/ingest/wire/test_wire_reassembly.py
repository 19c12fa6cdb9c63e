"""Reassembling messages from chunks, one HTTP request at a time (reference §2.2)."""

from dataclasses import asdict
from pathlib import Path

import pytest

from dre.ingest.wire import (
    IDLE,
    OutcomeStatus,
    ReassemblyState,
    crc16_xmodem,
    encode_chunks,
    feed_chunk,
    reassemble,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"
SINGLE = (FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()
PART_1 = (FIXTURES / "chunk_v2_chunk_msg_pt1_of_2.bin").read_bytes()
PART_2 = (FIXTURES / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes()
MESSAGE = SINGLE[1:-2]
LIMIT = 1 << 20

# A 200-byte message split into 60-byte chunks: INIT, two middle continuations, last.
LONG_MESSAGE = b"\x02" + bytes(range(199))
LONG_CHUNKS = encode_chunks(LONG_MESSAGE, chunk_size=60)


def statuses(result):
    return [outcome.status for outcome in result.outcomes]


def test_it_completes_memfault_single_chunk_test_pattern():
    result = feed_chunk(IDLE, SINGLE, max_message_length=LIMIT)
    assert result.messages == [MESSAGE]
    assert result.state == IDLE


def test_it_reassembles_memfault_two_part_test_pattern():
    first = feed_chunk(IDLE, PART_1, max_message_length=LIMIT)
    assert first.outcomes == []
    assert first.state == ReassemblyState(total_length=84, buffer=MESSAGE[:44])

    second = feed_chunk(first.state, PART_2, max_message_length=LIMIT)
    assert second.messages == [MESSAGE]
    assert second.outcomes[0].reason == "84-byte message complete"
    assert second.state == IDLE


def test_it_keeps_its_state_in_plain_values_a_database_row_can_hold():
    state = feed_chunk(IDLE, PART_1, max_message_length=LIMIT).state
    stored = asdict(state)
    assert stored == {"total_length": 84, "buffer": MESSAGE[:44]}
    result = feed_chunk(ReassemblyState(**stored), PART_2, max_message_length=LIMIT)
    assert result.messages == [MESSAGE]


@pytest.mark.parametrize("chunk_size", range(9, 90))
def test_it_reassembles_a_message_split_at_any_chunk_size(chunk_size):
    chunks = encode_chunks(MESSAGE, chunk_size=chunk_size)
    result = reassemble(chunks, max_message_length=LIMIT)
    assert result.messages == [MESSAGE]
    assert statuses(result) == [OutcomeStatus.COMPLETE]


def test_it_reports_a_crc_mismatch_with_the_message_bytes():
    corrupt = PART_2[:10] + b"\x00" + PART_2[11:]
    result = reassemble([PART_1, corrupt], max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.BAD_CRC
    assert "the chunk says 0xe431" in outcome.reason
    assert outcome.message == MESSAGE[:52] + b"\x00" + MESSAGE[53:]
    assert result.state == IDLE


def test_it_reports_an_out_of_order_continuation_with_the_partial_message():
    result = reassemble([LONG_CHUNKS[0], LONG_CHUNKS[2]], max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.OFFSET_MISMATCH
    assert outcome.reason == "continuation at offset 115, expected 57"
    assert outcome.message == LONG_MESSAGE[:57]
    assert outcome.chunk == LONG_CHUNKS[2]
    assert result.state == IDLE


def test_it_reports_a_continuation_without_an_init_chunk():
    result = feed_chunk(IDLE, PART_2, max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.ORPHAN_CONTINUATION
    assert outcome.chunk == PART_2


def test_it_reports_the_partial_message_a_new_init_chunk_abandons():
    """The SDK restarts a message after `memfault_packetizer_abort()`; the bytes already
    received are reported, never silently dropped."""
    result = reassemble([PART_1, SINGLE], max_message_length=LIMIT)
    abandoned, completed = result.outcomes
    assert abandoned.status is OutcomeStatus.ABANDONED
    assert abandoned.reason == (
        "a new INIT chunk arrived after 44 of 84 bytes of the previous message"
    )
    assert abandoned.message == MESSAGE[:44]
    assert completed.message == MESSAGE


def test_it_starts_over_when_a_new_multi_chunk_message_abandons_one():
    result = reassemble([LONG_CHUNKS[0], LONG_CHUNKS[1], PART_1, PART_2], max_message_length=LIMIT)
    assert statuses(result) == [OutcomeStatus.ABANDONED, OutcomeStatus.COMPLETE]
    assert result.messages == [MESSAGE]


def test_it_ignores_a_continuation_resent_after_an_http_retry():
    first, second, third, last = LONG_CHUNKS
    result = reassemble([first, second, second, third, last], max_message_length=LIMIT)
    assert statuses(result) == [OutcomeStatus.DUPLICATE, OutcomeStatus.COMPLETE]
    assert result.messages == [LONG_MESSAGE]


def test_it_ignores_an_older_continuation_resent_late():
    first, second, third, last = LONG_CHUNKS
    result = reassemble([first, second, third, second, last], max_message_length=LIMIT)
    assert result.messages == [LONG_MESSAGE]


def test_it_ignores_an_init_chunk_resent_before_any_continuation():
    result = reassemble([PART_1, PART_1, PART_2], max_message_length=LIMIT)
    assert statuses(result) == [OutcomeStatus.DUPLICATE, OutcomeStatus.COMPLETE]


def test_it_treats_a_resent_continuation_with_different_bytes_as_a_mismatch():
    first, second, third, _ = LONG_CHUNKS
    altered = second[:-1] + b"\xff"
    result = reassemble([first, second, third, altered], max_message_length=LIMIT)
    assert statuses(result) == [OutcomeStatus.OFFSET_MISMATCH]
    assert result.outcomes[0].message == LONG_MESSAGE[:173]


def test_it_discards_padding_after_the_crc_of_a_multi_chunk_message():
    """The SDK fills the unused end of a fixed-size last chunk with 0xBA."""
    result = reassemble([PART_1, PART_2 + b"\xba" * 10], max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.message == MESSAGE
    assert outcome.reason == "84-byte message complete; 10 bytes of padding after the CRC discarded"


def test_it_requires_a_single_chunk_message_to_end_at_its_crc():
    result = feed_chunk(IDLE, SINGLE + b"\xba\xba", max_message_length=LIMIT)
    assert statuses(result) == [OutcomeStatus.BAD_CRC]


def test_it_completes_a_message_whose_crc_arrives_in_a_chunk_of_its_own():
    chunks = encode_chunks(MESSAGE, chunk_size=86)
    assert chunks[-1] == b"\x80\x54\x31\xe4"
    assert reassemble(chunks, max_message_length=LIMIT).messages == [MESSAGE]


def test_it_accepts_a_whole_coredump_in_one_init_chunk():
    coredump_message = b"\x81" + bytes(range(256)) * 1000
    (chunk,) = encode_chunks(coredump_message)
    result = feed_chunk(IDLE, chunk, max_message_length=LIMIT)
    assert result.messages == [coredump_message]


def test_it_refuses_a_message_announced_above_the_limit():
    result = feed_chunk(IDLE, PART_1, max_message_length=83)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.TOO_LARGE
    assert outcome.reason == "message of 84 bytes is larger than the limit of 83 bytes"
    assert result.state == IDLE


def test_it_refuses_a_single_chunk_message_above_the_limit():
    result = feed_chunk(IDLE, SINGLE, max_message_length=83)
    assert statuses(result) == [OutcomeStatus.TOO_LARGE]


def test_it_reports_a_last_chunk_that_ends_before_the_crc():
    result = reassemble([PART_1, PART_2[:-1]], max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.TRUNCATED
    assert outcome.message == MESSAGE + b"\x31"


def test_it_reports_a_continuation_carrying_more_than_the_announced_length():
    too_long = b"\xc0\x2c" + bytes(41)
    result = reassemble([PART_1, too_long], max_message_length=LIMIT)
    (outcome,) = result.outcomes
    assert outcome.status is OutcomeStatus.OVERFLOW
    assert outcome.message == MESSAGE[:44]


def test_it_reports_a_malformed_chunk_and_keeps_waiting_for_the_next_one():
    first = feed_chunk(IDLE, PART_1, max_message_length=LIMIT)
    garbage = feed_chunk(first.state, b"\x87garbage", max_message_length=LIMIT)
    assert statuses(garbage) == [OutcomeStatus.MALFORMED]
    assert garbage.outcomes[0].chunk == b"\x87garbage"
    assert garbage.state == first.state
    assert feed_chunk(garbage.state, PART_2, max_message_length=LIMIT).messages == [MESSAGE]


def test_it_checks_the_crc_of_the_whole_message_not_of_the_chunks():
    assert crc16_xmodem(MESSAGE) == 0xE431
    assert crc16_xmodem(PART_1 + PART_2[:-2]) != 0xE431

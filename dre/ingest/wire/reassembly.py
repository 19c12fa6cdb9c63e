"""Reassembling messages from a device's chunks, one chunk at a time (reference §2.2).

Pure functions over a small state value: the caller stores the state per device between
HTTP requests and feeds chunks strictly in order, one at a time, as the SDK sends them.
Every chunk yields zero or more outcomes; a problem always carries the bytes involved, so
nothing a device sent is dropped without a trace.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from .chunks import CRC_SIZE, Chunk, parse_chunk
from .crc16 import crc16_xmodem
from .errors import WireError


@dataclass(frozen=True)
class ReassemblyState:
    """The part of a message received so far; `total_length` is None between messages."""

    total_length: int | None = None
    buffer: bytes = b""

    @property
    def idle(self) -> bool:
        return self.total_length is None


IDLE = ReassemblyState()


class OutcomeStatus(StrEnum):
    COMPLETE = "complete"
    DUPLICATE = "duplicate"  # a chunk re-sent after an HTTP retry; ignored
    BAD_CRC = "bad_crc"
    OFFSET_MISMATCH = "offset_mismatch"  # a chunk went missing or came out of order
    ORPHAN_CONTINUATION = "orphan_continuation"  # no INIT chunk started this message
    ABANDONED = "abandoned"  # a new INIT chunk arrived before this message was complete
    TRUNCATED = "truncated"  # the last chunk ends before the message and its CRC do
    OVERFLOW = "overflow"  # the chunks carry more bytes than the INIT chunk announced
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class ChunkOutcome:
    """What one chunk led to. `message` is the whole or partial message concerned."""

    status: OutcomeStatus
    reason: str
    message: bytes = b""
    chunk: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is OutcomeStatus.COMPLETE


@dataclass(frozen=True)
class FeedResult:
    state: ReassemblyState
    outcomes: list[ChunkOutcome] = field(default_factory=list)

    @property
    def messages(self) -> list[bytes]:
        return [outcome.message for outcome in self.outcomes if outcome.ok]


def feed_chunk(state: ReassemblyState, raw: bytes, *, max_message_length: int) -> FeedResult:
    """Apply one raw chunk to `state`; return the new state and what happened."""
    try:
        chunk = parse_chunk(raw)
    except WireError as exc:
        return FeedResult(state, [ChunkOutcome(OutcomeStatus.MALFORMED, str(exc), chunk=raw)])
    if chunk.continuation:
        return _continue(state, chunk, raw)
    if not state.idle and _is_resent_init(state, chunk):
        return FeedResult(state, [_duplicate(raw)])
    abandoned = [] if state.idle else [_abandoned(state, raw)]
    result = _start(chunk, raw, max_message_length)
    return FeedResult(result.state, abandoned + result.outcomes)


def reassemble(
    chunks: list[bytes], *, max_message_length: int, state: ReassemblyState = IDLE
) -> FeedResult:
    """Feed several chunks in order; return the final state and all outcomes."""
    outcomes: list[ChunkOutcome] = []
    for raw in chunks:
        result = feed_chunk(state, raw, max_message_length=max_message_length)
        state = result.state
        outcomes += result.outcomes
    return FeedResult(state, outcomes)


def _start(chunk: Chunk, raw: bytes, max_message_length: int) -> FeedResult:
    total = chunk.total_length
    if total is None:
        # One chunk holds the whole message (possibly a whole coredump in multi-call mode);
        # it has no length field, so its CRC must be its last two bytes.
        message, crc = chunk.data[:-CRC_SIZE], chunk.data[-CRC_SIZE:]
        if len(message) > max_message_length:
            return _fail(OutcomeStatus.TOO_LARGE, _too_large(len(message), max_message_length), raw)
        return FeedResult(IDLE, [_check_crc(message, crc, raw, padding=0)])
    if total > max_message_length:
        return _fail(OutcomeStatus.TOO_LARGE, _too_large(total, max_message_length), raw)
    if len(chunk.data) > total:
        reason = f"INIT chunk carries {len(chunk.data)} bytes of a {total}-byte message"
        return _fail(OutcomeStatus.OVERFLOW, reason, raw, chunk.data)
    return FeedResult(ReassemblyState(total, chunk.data))


def _continue(state: ReassemblyState, chunk: Chunk, raw: bytes) -> FeedResult:
    total = state.total_length
    if total is None:
        reason = f"continuation at offset {chunk.offset} without an INIT chunk"
        return _fail(OutcomeStatus.ORPHAN_CONTINUATION, reason, raw)
    if chunk.offset != len(state.buffer):
        if _is_resent_continuation(state, chunk):
            return FeedResult(state, [_duplicate(raw)])
        reason = f"continuation at offset {chunk.offset}, expected {len(state.buffer)}"
        return _fail(OutcomeStatus.OFFSET_MISMATCH, reason, raw, state.buffer)
    missing = total - len(state.buffer)
    if chunk.more_data:
        return _append(state, chunk, raw, missing)
    return _finish(state, chunk, raw, missing)


def _append(state: ReassemblyState, chunk: Chunk, raw: bytes, missing: int) -> FeedResult:
    if len(chunk.data) > missing:
        reason = f"continuation carries {len(chunk.data)} bytes, only {missing} were missing"
        return _fail(OutcomeStatus.OVERFLOW, reason, raw, state.buffer)
    return FeedResult(ReassemblyState(state.total_length, state.buffer + chunk.data))


def _finish(state: ReassemblyState, chunk: Chunk, raw: bytes, missing: int) -> FeedResult:
    if len(chunk.data) < missing + CRC_SIZE:
        reason = (
            f"last chunk carries {len(chunk.data)} bytes, "
            f"{missing} message bytes and a {CRC_SIZE}-byte CRC were missing"
        )
        return _fail(OutcomeStatus.TRUNCATED, reason, raw, state.buffer + chunk.data)
    message = state.buffer + chunk.data[:missing]
    crc = chunk.data[missing : missing + CRC_SIZE]
    # Bytes after the CRC are buffer padding (the SDK fills it with 0xBA) and are dropped.
    padding = len(chunk.data) - missing - CRC_SIZE
    return FeedResult(IDLE, [_check_crc(message, crc, raw, padding)])


def _check_crc(message: bytes, crc: bytes, raw: bytes, padding: int) -> ChunkOutcome:
    claimed = int.from_bytes(crc, "little")
    computed = crc16_xmodem(message)
    if computed != claimed:
        reason = (
            f"the {len(message)}-byte message has CRC-16/XMODEM 0x{computed:04x}, "
            f"the chunk says 0x{claimed:04x}"
        )
        return ChunkOutcome(OutcomeStatus.BAD_CRC, reason, message, raw)
    reason = f"{len(message)}-byte message complete"
    if padding:
        reason += f"; {padding} bytes of padding after the CRC discarded"
    return ChunkOutcome(OutcomeStatus.COMPLETE, reason, message, raw)


def _is_resent_init(state: ReassemblyState, chunk: Chunk) -> bool:
    # Only while nothing but the INIT chunk has arrived: restarting would give the same state.
    same_start = (chunk.total_length, chunk.data) == (state.total_length, state.buffer)
    return chunk.more_data and same_start


def _is_resent_continuation(state: ReassemblyState, chunk: Chunk) -> bool:
    end = chunk.offset + len(chunk.data)
    return (
        chunk.more_data
        and chunk.offset < len(state.buffer)
        and end <= len(state.buffer)
        and state.buffer[chunk.offset : end] == chunk.data
    )


def _abandoned(state: ReassemblyState, raw: bytes) -> ChunkOutcome:
    reason = (
        f"a new INIT chunk arrived after {len(state.buffer)} of {state.total_length} bytes "
        "of the previous message"
    )
    return ChunkOutcome(OutcomeStatus.ABANDONED, reason, state.buffer, raw)


def _duplicate(raw: bytes) -> ChunkOutcome:
    return ChunkOutcome(OutcomeStatus.DUPLICATE, "chunk already received; ignored", chunk=raw)


def _too_large(length: int, limit: int) -> str:
    return f"message of {length} bytes is larger than the limit of {limit} bytes"


def _fail(status: OutcomeStatus, reason: str, raw: bytes, message: bytes = b"") -> FeedResult:
    """The message cannot be completed: report it and wait for the next INIT chunk."""
    return FeedResult(IDLE, [ChunkOutcome(status, reason, message, raw)])

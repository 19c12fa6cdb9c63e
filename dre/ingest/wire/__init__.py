"""Decoding what Memfault-SDK devices send: chunks, messages, RLE and CBOR events.

Pure Python with no Django imports, so it can be tested byte by byte and reused by
command-line tools. The layers, from the wire up (reference §2.1-2.5):

    chunks (chunks.py, reassembly.py)  ->  message (messages.py, rle.py)
    ->  coredump bytes, or CBOR events (events.py)
"""

from .chunks import Chunk, encode_chunks, parse_chunk
from .console import chunks_from_console, console_line
from .crc16 import crc16_xmodem
from .errors import (
    ChunkError,
    EventError,
    MessageError,
    RleError,
    RleExpansionLimit,
    UnknownMessageType,
    VarintError,
    WireError,
)
from .events import (
    CustomDataRecording,
    Event,
    EventInfo,
    EventType,
    Heartbeat,
    LogLine,
    Logs,
    RebootEvent,
    TraceEvent,
    UnknownEventInfo,
    decode_events,
)
from .messages import Message, MessageType, encode_message, parse_message
from .reassembly import (
    IDLE,
    ChunkOutcome,
    FeedResult,
    OutcomeStatus,
    ReassemblyState,
    feed_chunk,
    reassemble,
)
from .rle import rle_decode, rle_encode
from .varint import decode_svarint, decode_uvarint, encode_svarint, encode_uvarint

__all__ = [
    "IDLE",
    "Chunk",
    "ChunkError",
    "ChunkOutcome",
    "CustomDataRecording",
    "Event",
    "EventError",
    "EventInfo",
    "EventType",
    "FeedResult",
    "Heartbeat",
    "LogLine",
    "Logs",
    "Message",
    "MessageError",
    "MessageType",
    "OutcomeStatus",
    "ReassemblyState",
    "RebootEvent",
    "RleError",
    "RleExpansionLimit",
    "TraceEvent",
    "UnknownEventInfo",
    "UnknownMessageType",
    "VarintError",
    "WireError",
    "chunks_from_console",
    "console_line",
    "crc16_xmodem",
    "decode_events",
    "decode_svarint",
    "decode_uvarint",
    "encode_chunks",
    "encode_message",
    "encode_svarint",
    "encode_uvarint",
    "feed_chunk",
    "parse_chunk",
    "parse_message",
    "reassemble",
    "rle_decode",
    "rle_encode",
]

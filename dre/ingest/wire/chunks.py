"""One chunk of the SDK's chunk transport: parsing and building (reference §2.2).

Header byte: bits 0-2 channel (always 0), bits 3-5 CFG, bit 6 MD (more chunks follow),
bit 7 CONT (0 for the INIT chunk of a message, 1 for a CONTINUATION).

    INIT, MD=0:    hdr | message | crc16
    INIT, MD=1:    hdr | varint(total message length) | first message bytes
    CONTINUATION:  hdr | varint(offset in message) | message bytes [| crc16 if MD=0]

The CRC is CRC-16/XMODEM of the whole message, little-endian. The last chunk of a message
split over several chunks may carry padding after the CRC; only the reassembler, which
knows the total length, can tell where the CRC ends, so `data` keeps it all.
"""

from dataclasses import dataclass

from .crc16 import crc16_xmodem
from .errors import ChunkError, VarintError
from .varint import decode_uvarint, encode_uvarint

CHANNEL_MASK = 0x07
CFG_SHIFT = 3
CFG_MASK = 0x07
MORE_DATA = 0x40
CONTINUATION = 0x80

# CFG 0b001: the CRC is at the end of the last chunk. The SDK always writes it in INIT
# chunks; 0b000 (CRC inside the INIT chunk) is defined but no sender uses it.
CFG_CRC_AT_END = 0b001
CRC_SIZE = 2
MIN_CHUNK_SIZE = 9  # MEMFAULT_MIN_CHUNK_BUF_LEN: hdr + 5-byte varint + crc + 1 data byte


@dataclass(frozen=True)
class Chunk:
    """A parsed chunk. `data` is everything after the header and its varint."""

    continuation: bool
    more_data: bool
    total_length: int | None  # only in an INIT chunk with more data to follow
    offset: int  # where `data` starts in the message; 0 for INIT
    data: bytes

    @property
    def is_last(self) -> bool:
        return not self.more_data


def parse_chunk(raw: bytes) -> Chunk:
    """Parse one chunk's header; raise ChunkError if it does not follow §2.2."""
    if not raw:
        raise ChunkError("the chunk is empty")
    header = raw[0]
    _check_header(header)
    continuation = bool(header & CONTINUATION)
    more_data = bool(header & MORE_DATA)
    if continuation:
        offset, start = _read_varint(raw, "offset")
        return Chunk(True, more_data, None, offset, raw[start:])
    if more_data:
        total_length, start = _read_varint(raw, "total length")
        if total_length == 0:
            raise ChunkError("INIT chunk announces a message of 0 bytes")
        return Chunk(False, True, total_length, 0, raw[start:])
    if len(raw) < 1 + 1 + CRC_SIZE:
        raise ChunkError(f"single chunk of {len(raw)} bytes has no room for a message and a CRC")
    return Chunk(False, False, None, 0, raw[1:])


def _check_header(header: int) -> None:
    channel = header & CHANNEL_MASK
    cfg = (header >> CFG_SHIFT) & CFG_MASK
    expected_cfg = 0 if header & CONTINUATION else CFG_CRC_AT_END
    if channel != 0:
        raise ChunkError(f"chunk header 0x{header:02x}: channel {channel} is not supported")
    if cfg != expected_cfg:
        raise ChunkError(f"chunk header 0x{header:02x}: CFG 0b{cfg:03b} is not supported")


def _read_varint(raw: bytes, what: str) -> tuple[int, int]:
    try:
        return decode_uvarint(raw, 1)
    except VarintError as exc:
        raise ChunkError(f"chunk header 0x{raw[0]:02x}: {what}: {exc}") from exc


def encode_chunks(message: bytes, *, chunk_size: int | None = None) -> list[bytes]:
    """Split `message` into chunks of at most `chunk_size` bytes, as the SDK does.

    With no `chunk_size`, return one INIT chunk holding the whole message: the SDK's
    multi-call mode, used by its HTTP ports to stream a coredump in one request.
    """
    crc = crc16_xmodem(message).to_bytes(CRC_SIZE, "little")
    header = CFG_CRC_AT_END << CFG_SHIFT
    if chunk_size is None or 1 + len(message) + CRC_SIZE <= chunk_size:
        return [bytes([header]) + message + crc]
    if chunk_size < MIN_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be at least {MIN_CHUNK_SIZE}")
    prefix = bytes([header | MORE_DATA]) + encode_uvarint(len(message))
    first = chunk_size - len(prefix)
    chunks = [prefix + message[:first]]
    offset = first
    while chunks[-1][0] & MORE_DATA:
        chunk, offset = _continuation(message, offset, chunk_size, crc)
        chunks.append(chunk)
    return chunks


def _continuation(message: bytes, offset: int, size: int, crc: bytes) -> tuple[bytes, int]:
    # The CRC is never split: if it does not fit after the last message bytes, this chunk
    # keeps MD=1 and a final continuation carries only the CRC (offset == message length).
    prefix = encode_uvarint(offset)
    body = message[offset : offset + size - 1 - len(prefix)]
    last = size - 1 - len(prefix) - len(body) >= CRC_SIZE
    header = CONTINUATION | (0 if last else MORE_DATA)
    chunk = bytes([header]) + prefix + body + (crc if last else b"")
    return chunk, offset + len(body)

"""LEB128 varints and ZigZag signed varints, as the SDK encodes them (reference §2.1, §2.2).

Seven bits per byte, least significant group first, the high bit set on every byte but the
last. The SDK only encodes 32-bit values (chunk lengths and offsets, RLE record counts), so
at most 5 bytes are accepted, and, like the SDK's encoder, only the minimal encoding.
"""

from .errors import VarintError

MAX_VARINT_BYTES = 5  # MEMFAULT_UINT32_MAX_VARINT_LENGTH
MAX_UINT32 = 0xFFFF_FFFF


def decode_uvarint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read an unsigned varint at `offset`; return (value, offset just after it)."""
    value = 0
    for index in range(MAX_VARINT_BYTES):
        position = offset + index
        if position >= len(data):
            raise VarintError(f"varint at offset {offset} is truncated after {index} bytes")
        byte = data[position]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            _check_final_byte(byte, index, value, offset)
            return value, position + 1
    raise VarintError(f"varint at offset {offset} is longer than {MAX_VARINT_BYTES} bytes")


def _check_final_byte(byte: int, index: int, value: int, offset: int) -> None:
    if byte == 0 and index > 0:
        raise VarintError(f"varint at offset {offset} is overlong (ends in a zero byte)")
    if value > MAX_UINT32:
        raise VarintError(f"varint at offset {offset} does not fit in 32 bits")


def encode_uvarint(value: int) -> bytes:
    """Encode an unsigned 32-bit value."""
    if not 0 <= value <= MAX_UINT32:
        raise ValueError(f"{value} is not an unsigned 32-bit value")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag_decode(value: int) -> int:
    """Map 0, 1, 2, 3, ... back to 0, -1, 1, -2, ..."""
    return (value >> 1) ^ -(value & 1)


def zigzag_encode(value: int) -> int:
    """Map 0, -1, 1, -2, ... to 0, 1, 2, 3, ..."""
    return value * 2 if value >= 0 else -value * 2 - 1


def decode_svarint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a ZigZag signed varint at `offset`; return (value, offset just after it)."""
    raw, end = decode_uvarint(data, offset)
    return zigzag_decode(raw), end


def encode_svarint(value: int) -> bytes:
    """Encode a signed 32-bit value with ZigZag."""
    return encode_uvarint(zigzag_encode(value))

"""LEB128 numbers (DWARF 5 section 7.6), read from a bytes-like object at an offset or
from an iterator over bytes (where a decoder walks a byte stream), and written
(expressions built at run time, and tests)."""

from __future__ import annotations

from collections.abc import Iterator

from symbolicator.errors import SymbolicatorError

# Every number DWARF encodes fits 64 bits. Padding (continuation bytes of zero bits) is
# allowed at any length, as LLVM's decoder allows it; set bits beyond 64 are refused,
# which also keeps a long run of 0xff bytes from building an ever larger integer.
MAX_BITS = 64


class Leb128Error(SymbolicatorError):
    """A LEB128 number runs past the end of its data or does not fit 64 bits."""


def read_uleb(data, offset: int) -> tuple[int, int]:
    try:
        value = data[offset]
    except IndexError:
        raise _past_end(offset, data) from None
    if value < 0x80:  # most numbers in DWARF fit in one byte
        return value, offset + 1
    start, value, shift = offset, 0, 0
    try:
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, offset
            if shift >= MAX_BITS:
                _check_width(value, f" at offset {start}")
    except IndexError:
        raise _past_end(start, data) from None


def read_sleb(data, offset: int) -> tuple[int, int]:
    start, value, shift = offset, 0, 0
    try:
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                if byte & 0x40:
                    value -= 1 << shift
                return value, offset
            if shift >= MAX_BITS:
                _check_width(value, f" at offset {start}")
    except IndexError:
        raise _past_end(start, data) from None


def _check_width(value: int, where: str) -> None:
    if value >> MAX_BITS:
        raise Leb128Error(f"LEB128 number{where} does not fit {MAX_BITS} bits")


def _past_end(start: int, data) -> Leb128Error:
    return Leb128Error(f"LEB128 number at offset {start} runs past the end ({len(data)} bytes)")


def encode_uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7  # >> keeps the sign of a negative value
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


def next_uleb(stream: Iterator[int]) -> int:
    """The ULEB128 number the byte iterator is at; the iterator is left just after it."""
    value = shift = 0
    for byte in stream:
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift >= MAX_BITS:
            _check_width(value, "")
    return value


def next_sleb(stream: Iterator[int]) -> int:
    """The SLEB128 number the byte iterator is at; the iterator is left just after it."""
    value = shift = 0
    for byte in stream:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                value -= 1 << shift
            break
        if shift >= MAX_BITS:
            _check_width(value, "")
    return value

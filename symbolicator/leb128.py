"""LEB128 numbers (DWARF 5 section 7.6), read from a bytes-like object at an offset or
from an iterator over bytes (where a decoder walks a byte stream), and written
(expressions built at run time, and tests)."""

from __future__ import annotations

from collections.abc import Iterator


def read_uleb(data, offset: int) -> tuple[int, int]:
    value = data[offset]
    if value < 0x80:  # most numbers in DWARF fit in one byte
        return value, offset + 1
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def read_sleb(data, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                value -= 1 << shift
            return value, offset


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
    return value

"""LEB128 numbers (DWARF 5 section 7.6), read from a bytes-like object at an offset."""

from __future__ import annotations


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

"""Address ranges of DIEs: low_pc/high_pc or DW_AT_ranges (DWARF 5 section 2.17)."""

from __future__ import annotations

import struct

from symbolicator.dwarf import constants as c
from symbolicator.dwarf import forms
from symbolicator.dwarf.info import Unit
from symbolicator.leb128 import read_uleb

BASE_ADDRESS_SELECTION = 0xFFFFFFFF
RLE_END, RLE_BASEX, RLE_STARTX_ENDX, RLE_STARTX_LENGTH = 0, 1, 2, 3
RLE_OFFSET_PAIR, RLE_BASE, RLE_START_END, RLE_START_LENGTH = 4, 5, 6, 7


def die_ranges(unit: Unit, attributes: dict) -> list[tuple[int, int]]:
    """The [start, end) ranges a DIE covers; empty for DIEs without code.

    Thumb code addresses may carry bit 0 (the assembler's DWARF for .S files
    does); it is not part of the address, as for GDB's addr_bits_remove.
    """
    return [
        (low & ~1, high & ~1) for low, high in _raw_ranges(unit, attributes) if high & ~1 > low & ~1
    ]


def _raw_ranges(unit: Unit, attributes: dict) -> list[tuple[int, int]]:
    if c.AT_RANGES in attributes:
        return range_list(unit, *attributes[c.AT_RANGES])
    if c.AT_LOW_PC not in attributes:
        return []
    low = unit.address(*attributes[c.AT_LOW_PC])
    if c.AT_HIGH_PC not in attributes:
        return []
    form, high = attributes[c.AT_HIGH_PC]
    if form in forms.CONSTANT_FORMS:
        high += low  # DWARF 4+: high_pc as an offset from low_pc
    else:
        high = unit.address(form, high)
    return [(low, high)] if high > low else []


def unit_base_address(unit: Unit) -> int:
    found = unit.attributes.get(c.AT_LOW_PC)
    return unit.address(*found) if found else 0


def range_list(unit: Unit, form: int, value: int) -> list[tuple[int, int]]:
    if not isinstance(value, int) or isinstance(value, bool):
        raise forms.DwarfError(f"malformed .debug_info: DW_AT_ranges has form 0x{form:x}")
    if unit.version >= 5:
        if form == c.FORM_RNGLISTX:
            base = unit.rnglists_base
            value = base + struct.unpack_from("<I", unit.sections.rnglists, base + 4 * value)[0]
        return _rnglist(unit, value)
    return _ranges_v4(unit, value)


def _ranges_v4(unit: Unit, offset: int) -> list[tuple[int, int]]:
    data, base, out = unit.sections.ranges, unit_base_address(unit), []
    while offset + 8 <= len(data):
        begin, end = struct.unpack_from("<II", data, offset)
        offset += 8
        if begin == 0 and end == 0:
            break
        if begin == BASE_ADDRESS_SELECTION:
            base = end
        elif end > begin:
            out.append((base + begin, base + end))
    return out


def _rnglist(unit: Unit, offset: int) -> list[tuple[int, int]]:
    data, base, out = unit.sections.rnglists, unit_base_address(unit), []
    while offset < len(data):
        kind = data[offset]
        offset += 1
        if kind == RLE_END:
            break
        if kind == RLE_BASEX:
            index, offset = read_uleb(data, offset)
            base = _indexed_address(unit, index)
        elif kind == RLE_STARTX_ENDX:
            start, offset = read_uleb(data, offset)
            end, offset = read_uleb(data, offset)
            out.append((_indexed_address(unit, start), _indexed_address(unit, end)))
        elif kind == RLE_STARTX_LENGTH:
            start, offset = read_uleb(data, offset)
            length, offset = read_uleb(data, offset)
            begin = _indexed_address(unit, start)
            out.append((begin, begin + length))
        elif kind == RLE_OFFSET_PAIR:
            begin, offset = read_uleb(data, offset)
            end, offset = read_uleb(data, offset)
            out.append((base + begin, base + end))
        elif kind == RLE_BASE:
            (base,) = struct.unpack_from("<I", data, offset)
            offset += 4
        elif kind == RLE_START_END:
            out.append(struct.unpack_from("<II", data, offset))
            offset += 8
        elif kind == RLE_START_LENGTH:
            (begin,) = struct.unpack_from("<I", data, offset)
            length, offset = read_uleb(data, offset + 4)
            out.append((begin, begin + length))
        else:
            raise forms.DwarfError(f"unknown range list entry kind {kind} at {offset - 1}")
    return [(begin, end) for begin, end in out if end > begin]


def _indexed_address(unit: Unit, index: int) -> int:
    return unit.address(c.FORM_ADDRX, index)

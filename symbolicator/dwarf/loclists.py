"""Location lists: which location expression applies at a pc (DWARF 5 section 2.6.2).

DWARF 4 keeps them in .debug_loc as address pairs relative to the unit's
base address; DWARF 5 in .debug_loclists as typed entries. GCC adds GNU
location views (DW_LLE_view_pair) which only order entries at one address
and are skipped here, as GDB skips them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from symbolicator.dwarf import constants as c
from symbolicator.dwarf import forms
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.info import Unit
from symbolicator.dwarf.ranges import unit_base_address
from symbolicator.leb128 import read_uleb

LLE_END, LLE_BASEX, LLE_STARTX_ENDX, LLE_STARTX_LENGTH = 0, 1, 2, 3
LLE_OFFSET_PAIR, LLE_DEFAULT, LLE_BASE, LLE_START_END, LLE_START_LENGTH = 4, 5, 6, 7, 8
LLE_GNU_VIEW_PAIR = 9
AT_LOCLISTS_BASE = 0x8C


@dataclass
class LocationList:
    """A decoded location list: bounded entries in list order, then the default entry.

    Decoding stops at the first malformed entry; `error` keeps why, and a pc
    that no entry before it covers raises it, as reading the list in place would.
    """

    entries: list[tuple[int, int, bytes]] = field(default_factory=list)  # [low, high)
    default: bytes | None = None
    error: Exception | None = None

    def at(self, pc: int) -> bytes | None:
        """The expression of the first entry covering `pc`, else the default (DWARF 5
        DW_LLE_default_location), else None: optimized out there."""
        for low, high, expression in self.entries:
            if low <= pc < high:
                return expression
        if self.error is not None:
            # A new exception each time: a stored one would collect tracebacks (and
            # the frames they hold) for as long as the list is cached.
            raise type(self.error)(*self.error.args)
        return self.default


def expression_at(unit: Unit, form: int, value: int, pc: int) -> bytes | None:
    """The expression of the list entry covering `pc`, or None (optimized out there)."""
    return location_list(unit, form, value).at(pc)


def location_list(unit: Unit, form: int, value: int) -> LocationList:
    found = LocationList()
    try:
        if unit.version >= 5:
            if form == c.FORM_LOCLISTX:
                base = unit.attributes.get(AT_LOCLISTS_BASE, (None, 12))[1]
                offset = struct.unpack_from("<I", unit.sections.loclists, base + 4 * value)[0]
                value = base + offset
            _v5(unit, value, found)
        else:
            _v4(unit, value, found)
    except DwarfError as error:
        found.error = error.with_traceback(None)
    except forms.DECODING_ERRORS as error:  # kept, then raised for a pc: as a DwarfError
        found.error = DwarfError(f"malformed location list at offset {value}: {error}")
    return found


def _v4(unit: Unit, offset: int, found: LocationList) -> None:
    data, base = unit.sections.loc, unit_base_address(unit)
    while offset + 8 <= len(data):
        begin, end = struct.unpack_from("<II", data, offset)
        offset += 8
        if begin == 0 and end == 0:
            return
        if begin == 0xFFFFFFFF:
            base = end
            continue
        (length,) = struct.unpack_from("<H", data, offset)
        found.entries.append(
            (base + begin, base + end, bytes(data[offset + 2 : offset + 2 + length]))
        )
        offset += 2 + length


def _v5(unit: Unit, offset: int, found: LocationList) -> None:  # noqa: C901 (one case per entry kind)
    data, base = unit.sections.loclists, unit_base_address(unit)
    while offset < len(data):
        kind = data[offset]
        offset += 1
        low = high = None
        if kind == LLE_END:
            return
        if kind == LLE_BASEX:
            index, offset = read_uleb(data, offset)
            base = unit.address(c.FORM_ADDRX, index)
            continue
        if kind == LLE_BASE:
            (base,) = struct.unpack_from("<I", data, offset)
            offset += 4
            continue
        if kind == LLE_GNU_VIEW_PAIR:
            _, offset = read_uleb(data, offset)
            _, offset = read_uleb(data, offset)
            continue
        if kind == LLE_STARTX_ENDX:
            start, offset = read_uleb(data, offset)
            end, offset = read_uleb(data, offset)
            low, high = unit.address(c.FORM_ADDRX, start), unit.address(c.FORM_ADDRX, end)
        elif kind == LLE_STARTX_LENGTH:
            start, offset = read_uleb(data, offset)
            length, offset = read_uleb(data, offset)
            low = unit.address(c.FORM_ADDRX, start)
            high = low + length
        elif kind == LLE_OFFSET_PAIR:
            begin, offset = read_uleb(data, offset)
            end, offset = read_uleb(data, offset)
            low, high = base + begin, base + end
        elif kind == LLE_START_END:
            low, high = struct.unpack_from("<II", data, offset)
            offset += 8
        elif kind == LLE_START_LENGTH:
            (low,) = struct.unpack_from("<I", data, offset)
            length, offset = read_uleb(data, offset + 4)
            high = low + length
        elif kind != LLE_DEFAULT:
            raise DwarfError(f"unknown location list entry kind {kind} at {offset - 1}")
        length, offset = read_uleb(data, offset)
        expression = bytes(data[offset : offset + length])
        offset += length
        if kind == LLE_DEFAULT:
            found.default = expression
        else:
            found.entries.append((low, high, expression))

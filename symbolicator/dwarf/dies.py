"""DIEs of .debug_info, parsed on demand one top-level subtree at a time.

Symbolication only needs the index; the first time a trace asks for a
frame's variables, the DIEs it touches are parsed here. Asking for a DIE
parses the subtree of the top-level DIE of its unit that holds it (a
function with its parameters, blocks and call sites, or a type with its
members), never the whole unit: every unit of a large firmware repeats the
types of its shared headers, of which a trace reads a few. Where a unit's
top-level DIEs begin is found once, jumping over their subtrees
(DW_AT_sibling) without decoding them. The reader is kept with the index,
see variables/debug_info.py.
"""

from __future__ import annotations

import bisect
import struct
import threading
from array import array
from contextlib import contextmanager

from symbolicator.dwarf import constants as c
from symbolicator.dwarf import forms
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.info import (
    Unit,
    _first_die_attributes,
    _unit_header,
    read_attributes,
    skip_attributes,
)
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.leb128 import read_uleb

REFERENCE_FORMS = forms.UNIT_REFERENCE_FORMS | {c.FORM_REF_ADDR}


class Die:
    """One DIE with its raw attributes and all its children. `parent` is None for a
    unit's top-level DIEs: the unit DIE itself is not a Die (its attributes are
    `unit.attributes`)."""

    # Slots: a large firmware's trace keeps tens of thousands of DIEs alive with the index.
    __slots__ = ("attributes", "children", "offset", "parent", "tag", "unit")

    def __init__(
        self, offset: int, tag: int, attributes: dict, unit: Unit, parent: Die | None = None
    ):
        self.offset = offset
        self.tag = tag
        self.attributes: dict[int, tuple[int, object]] = attributes
        self.unit = unit
        self.parent = parent
        self.children: list[Die] = []

    def __repr__(self) -> str:
        return f"Die(0x{self.offset:x}, tag=0x{self.tag:x})"

    def has(self, name: int) -> bool:
        return name in self.attributes

    def value(self, name: int, default=None):
        found = self.attributes.get(name)
        return found[1] if found else default

    def number(self, name: int, default=None):
        """A constant attribute's value, else `default`: where it is missing, and where its
        form holds no number (DWARF 5 lets sizes and bounds computed at run time be an
        expression or a reference, which are not read here; a damaged abbreviation can
        give any form)."""
        found = self.attributes.get(name)
        value = found[1] if found else None
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def form(self, name: int) -> int | None:
        found = self.attributes.get(name)
        return found[0] if found else None

    def string(self, name: int) -> str | None:
        found = self.attributes.get(name)
        return self.unit.string(*found) if found else None

    def reference(self, name: int) -> int | None:
        found = self.attributes.get(name)
        return self.unit.reference(*found) if found and found[0] in REFERENCE_FORMS else None

    @property
    def name(self) -> str | None:
        return self.string(c.AT_NAME)


class DieReader:
    """Finds any DIE by its .debug_info offset, parsing the top-level subtree holding it
    on first use.

    Parsing happens under a lock and a subtree becomes visible only once complete,
    so threads sharing an index see every DIE exactly once, with all its children.
    """

    def __init__(self, sections: DwarfSections):
        self.sections = sections
        self._unit_offsets = _unit_offsets(sections)
        self._units: dict[int, _UnitLayout] = {}
        self._dies: dict[int, Die] = {}
        self._abbrev_cache: dict = {}
        self._lock = threading.Lock()

    def die(self, offset: int) -> Die | None:
        found = self._dies.get(offset)
        if found is not None:
            return found
        index = bisect.bisect_right(self._unit_offsets, offset) - 1
        if index < 0:
            return None
        with self._lock, _decoding(self._unit_offsets[index]):
            layout = self._layout(self._unit_offsets[index])
            top = layout.top_level_holding(offset)
            if top is not None and top not in self._dies:
                self._dies.update(_parse_subtree(layout.unit, top))
        return self._dies.get(offset)

    def units(self) -> list[int]:
        return list(self._unit_offsets)

    def unit(self, unit_offset: int) -> Unit:
        """The unit's header, abbreviations and unit DIE attributes."""
        with self._lock:
            return self._layout(unit_offset).unit

    def top_level(self, unit_offset: int, tag: int) -> list[Die]:
        """The unit's top-level DIEs with this tag (global variables, say), in order."""
        with self._lock:
            layout = self._layout(unit_offset)
        return [self.die(offset) for offset in layout.top_level_with(tag)]

    def _layout(self, unit_offset: int) -> _UnitLayout:
        layout = self._units.get(unit_offset)
        if layout is None:
            with _decoding(unit_offset):
                unit = _unit_header(self.sections, unit_offset, self._abbrev_cache)
                unit.attributes = _first_die_attributes(unit)
                layout = self._units[unit_offset] = _UnitLayout(unit)
        return layout


@contextmanager
def _decoding(unit_offset: int):
    """DIEs are decoded here on first use, long after the index was built: what reading
    past the end of a section or a bad offset raises is reported as the DwarfError of a
    corrupt unit, as the index build reports it."""
    try:
        yield
    except forms.DECODING_ERRORS as error:
        raise DwarfError(
            f"malformed .debug_info in the unit at offset 0x{unit_offset:x} "
            f"({type(error).__name__}: {error})"
        ) from error


class _UnitLayout:
    """Where a unit's top-level DIEs begin, and their tags."""

    def __init__(self, unit: Unit):
        self.unit = unit
        self.offsets, self.tags = _top_level(unit)

    def top_level_holding(self, offset: int) -> int | None:
        index = bisect.bisect_right(self.offsets, offset) - 1
        return self.offsets[index] if index >= 0 else None

    def top_level_with(self, tag: int) -> list[int]:
        return [
            offset for offset, found in zip(self.offsets, self.tags, strict=True) if found == tag
        ]


def _unit_offsets(sections: DwarfSections) -> list[int]:
    offsets, offset, data = [], 0, sections.info
    while offset + 11 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        offsets.append(offset)
        offset += 4 + length
    return offsets


def _top_level(unit: Unit) -> tuple[array, array]:
    """Offsets and tags of the unit DIE's children, each subtree skipped undecoded."""
    offsets, tags = array("I"), array("I")
    data = unit.sections.info
    code, pos = read_uleb(data, unit.die_offset)
    if code == 0 or not unit.abbrevs[code].has_children:
        return offsets, tags
    pos = skip_attributes(unit, unit.abbrevs[code], pos)
    while pos < unit.end:
        code, after = read_uleb(data, pos)
        if code == 0:
            break
        abbrev = unit.abbrevs[code]
        offsets.append(pos)
        tags.append(abbrev.tag)
        if abbrev.fixed_size is not None and not abbrev.has_children:
            pos = after + abbrev.fixed_size  # most of them: base types, typedefs, pointers
        else:
            pos = _after_subtree(unit, abbrev, after)
    return offsets, tags


def _after_subtree(unit: Unit, abbrev, pos: int) -> int:
    """Where the next sibling of a DIE begins, given its abbreviation and the position
    after its code: through DW_AT_sibling where a DIE has one, else past its attributes
    and, level by level, its children."""
    data, depth = unit.sections.info, 0
    while True:
        sibling = _sibling(unit, abbrev, pos)
        if sibling is not None:
            pos = sibling
        else:
            pos = skip_attributes(unit, abbrev, pos)
            depth += abbrev.has_children
        code = 0
        while depth and not code:
            code, pos = read_uleb(data, pos)
            depth -= not code
        if not depth:
            return pos
        abbrev = unit.abbrevs[code]


def _sibling(unit: Unit, abbrev, pos: int) -> int | None:
    if not abbrev.has_children or abbrev.sibling_offset is None:
        return None
    (sibling,) = struct.unpack_from("<I", unit.sections.info, pos + abbrev.sibling_offset)
    # Only forwards and within the unit: a corrupt link pointing back would never end.
    return unit.offset + sibling if pos < unit.offset + sibling <= unit.end else None


def _parse_subtree(unit: Unit, start: int) -> dict[int, Die]:
    """Every DIE of the subtree at `start`, by offset, linked to parent and children."""
    data, found, stack, pos = unit.sections.info, {}, [], start
    while pos < unit.end:
        offset = pos
        code, pos = read_uleb(data, pos)
        if code == 0:  # the end of the innermost open DIE's children
            if stack:
                stack.pop()
            if not stack:
                break
            continue
        abbrev = unit.abbrevs[code]
        attributes, pos = read_attributes(unit, abbrev, pos)
        parent = stack[-1] if stack else None
        die = found[offset] = Die(offset, abbrev.tag, attributes, unit, parent)
        if parent is not None:
            parent.children.append(die)
        if abbrev.has_children:
            stack.append(die)
        elif not stack:
            break  # a top-level DIE without children
    return found

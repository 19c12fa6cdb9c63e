"""Units and DIEs of .debug_info, read fast enough to index large firmware.

The walker decodes only the DIEs whose tags the caller asks for and jumps
over everything else, using DW_AT_sibling to skip whole subtrees (types,
their members, enumerators) without decoding them.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from symbolicator.dwarf import constants as c
from symbolicator.dwarf import forms
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.leb128 import read_sleb, read_uleb

# Steps of an abbreviation's reading plan (see _plan).
FIXED, VARIABLE = 0, 1
_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


@dataclass(frozen=True)
class Abbrev:
    tag: int
    has_children: bool
    attributes: tuple[tuple[int, int, int | None], ...]  # (name, form, implicit const)
    fixed_size: int | None  # total size of the attributes when every form is fixed
    sibling_offset: int | None  # byte offset of a fixed-position DW_AT_sibling (ref4)
    plan: tuple = ()  # how read_attributes reads them, see _plan
    constants: dict = field(default_factory=dict)  # attributes without bytes in the DIE


# One abbreviation declaration (DWARF 5 section 7.5.3): its code, then the body
# that describes it: tag, children flag, (name, form) pairs up to (0, 0), with an
# SLEB128 after DW_FORM_implicit_const (0x21). A LEB128 number is any bytes with the
# top bit set, then one without.
_LEB128 = rb"[\x80-\xff]*[\x00-\x7f]"
_DECLARATION = re.compile(
    rb"(%s)(%s[\x00\x01](?:(?!\x00\x00)%s(?:\x21%s|%s))*\x00\x00)"
    % (_LEB128, _LEB128, _LEB128, _LEB128, _LEB128)
)


class AbbrevTable(dict):
    """code -> Abbrev. A DIE whose code the table lacks is corrupt debug information,
    reported as such wherever a DIE is decoded."""

    def __missing__(self, code: int):
        raise DwarfError(
            f"malformed .debug_info: abbreviation code {code} is not declared in its unit's table"
        )


def parse_abbrevs(data: bytes, offset: int, address_size: int, version: int) -> dict[int, Abbrev]:
    """The unit's abbreviation table, code -> Abbrev.

    Each declaration is delimited by a regular expression (in C) and looked up by its
    bytes: GCC repeats the same few hundred declarations in every unit's table, so
    most are never decoded byte by byte.
    """
    table = AbbrevTable()
    while data[offset]:  # a zero code ends the table
        found = _DECLARATION.match(data, offset)
        if found is None:
            raise DwarfError(f"malformed abbreviation declaration at offset {offset}")
        code, _ = read_uleb(found[1], 0)
        table[code] = _abbrev_from_body(found[2], address_size, version)
        offset = found.end()
    return table


@functools.lru_cache(maxsize=8192)
def _abbrev_from_body(body: bytes, address_size: int, version: int) -> Abbrev:
    tag, offset = read_uleb(body, 0)
    attributes, _ = _abbrev_attributes(body, offset + 1)
    return _abbrev(tag, bool(body[offset]), attributes, address_size, version)


@functools.lru_cache(maxsize=4096)
def _abbrev(tag: int, has_children: bool, attributes, address_size: int, version: int) -> Abbrev:
    """Every unit has its own abbreviation table, but GCC writes the same few hundred
    abbreviations into each: their layout and plan are worked out once per process."""
    return Abbrev(
        tag,
        has_children,
        attributes,
        *_layout(attributes, address_size, version),
        *_plan(attributes, address_size, version),
    )


def _abbrev_attributes(data: bytes, offset: int):
    attributes = []
    while True:
        name, offset = read_uleb(data, offset)
        form, offset = read_uleb(data, offset)
        if name == 0 and form == 0:
            return tuple(attributes), offset
        implicit = None
        if form == c.FORM_IMPLICIT_CONST:
            implicit, offset = read_sleb(data, offset)
        attributes.append((name, form, implicit))


def _layout(attributes, address_size, version) -> tuple[int | None, int | None]:
    total, sibling = 0, None
    for name, form, _ in attributes:
        size = forms.fixed_size(form, address_size, version)
        if name == c.AT_SIBLING and form == c.FORM_REF4 and total is not None:
            sibling = total
        if size is None:
            total = None
        elif total is not None:
            total += size
    return total, sibling


def _plan(attributes, address_size: int, version: int) -> tuple[tuple, dict]:
    """Steps that read an abbreviation's attributes, in order, and its constants.

    Each run of neighbouring fixed-size forms is one struct.unpack_from instead of a
    call per attribute (most DIEs, such as members and parameters, are all
    fixed-size); the rest go through forms.read. Forms without bytes
    (DW_FORM_flag_present, DW_FORM_implicit_const) are set aside as constants so
    that they do not split runs: a DIE has each attribute at most once (DWARF 5
    section 2.2), so where they go in the dict does not matter. The values are those
    forms.read returns."""
    steps, run, constants = [], [], {}

    def close_run():
        if run:
            codes = "".join(_STRUCT_CODES[size] for _, _, size in run)
            names = tuple(name for name, _, _ in run)
            run_forms = tuple(form for _, form, _ in run)
            steps.append((FIXED, struct.Struct("<" + codes), (names, run_forms)))
            run.clear()

    for name, form, implicit in attributes:
        size = forms.fixed_size(form, address_size, version)
        if size in _STRUCT_CODES:
            run.append((name, form, size))
            continue
        if form == c.FORM_IMPLICIT_CONST:
            constants[name] = (form, implicit)
        elif size == 0:
            constants[name] = (form, True)
        else:
            close_run()
            steps.append((VARIABLE, name, form))
    close_run()
    return tuple(steps), constants


@dataclass
class Unit:
    sections: DwarfSections
    offset: int
    version: int
    unit_type: int
    address_size: int
    abbrevs: dict[int, Abbrev]
    die_offset: int
    end: int
    attributes: dict[int, tuple[int, object]] = field(default_factory=dict)

    @property
    def str_offsets_base(self) -> int:
        return self._base(c.AT_STR_OFFSETS_BASE, 8)

    @property
    def addr_base(self) -> int:
        return self._base(c.AT_ADDR_BASE, 8, c.AT_GNU_ADDR_BASE)

    @property
    def rnglists_base(self) -> int:
        return self._base(c.AT_RNGLISTS_BASE, 12, c.AT_GNU_RANGES_BASE)

    def _base(self, name: int, default: int, alternative: int | None = None) -> int:
        found = self.attributes.get(name) or self.attributes.get(alternative)
        return found[1] if found else default

    def string(self, form: int, value) -> str:
        if form == c.FORM_STRING:
            return value
        if form == c.FORM_STRP:
            return self.sections.string_at(value)
        if form == c.FORM_LINE_STRP:
            return self.sections.string_at(value, line_str=True)
        if form in forms.STRING_FORMS:  # strx*: an index into .debug_str_offsets
            at = self.str_offsets_base + 4 * value
            return self.sections.string_at(_u32_at(self.sections.str_offsets, at, "str_offsets"))
        raise DwarfError(f"form 0x{form:x} is not a string form")

    def address(self, form: int, value) -> int:
        if type(value) is not int:  # the index asks 100,000 times: the check only when needed
            _check_number(form, value)
        if form in forms.ADDRESS_INDEX_FORMS:
            at = self.addr_base + self.address_size * value
            return _u32_at(self.sections.addr, at, "addr")
        return value

    def reference(self, form: int, value) -> int:
        """A reference attribute as an offset into .debug_info."""
        if type(value) is not int:
            _check_number(form, value)
        if form in forms.UNIT_REFERENCE_FORMS:
            return self.offset + value
        return value

    def name(self) -> str:
        found = self.attributes.get(c.AT_NAME)
        return self.string(*found) if found else ""

    def comp_dir(self) -> str:
        found = self.attributes.get(c.AT_COMP_DIR)
        return self.string(*found) if found else ""


def _check_number(form: int, value) -> None:
    """An address, reference or offset attribute must have a form that holds a number;
    a damaged abbreviation can give it a string or block form instead."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise DwarfError(
            f"malformed .debug_info: an attribute that needs a number has form 0x{form:x}"
        )


def _u32_at(data: bytes, at: int, section: str) -> int:
    """An entry of .debug_str_offsets or .debug_addr, which an index attribute names."""
    if not 0 <= at <= len(data) - 4:
        raise DwarfError(f"malformed DWARF: index to offset {at} of .debug_{section} is outside it")
    return struct.unpack_from("<I", data, at)[0]


def iter_units(sections: DwarfSections) -> Iterator[Unit]:
    data, offset, abbrev_cache = sections.info, 0, {}
    while offset + 11 <= len(data):
        unit = _unit_header(sections, offset, abbrev_cache)
        if unit.unit_type in (c.UT_COMPILE, c.UT_PARTIAL):
            unit.attributes = _first_die_attributes(unit)
            yield unit
        offset = unit.end


def unit_at(sections: DwarfSections, offset: int, abbrev_cache: dict) -> Unit:
    """The unit whose header is at `offset` (one iter_units yielded before), with the
    attributes of its first DIE; `abbrev_cache` is shared between calls."""
    unit = _unit_header(sections, offset, abbrev_cache)
    unit.attributes = _first_die_attributes(unit)
    return unit


def _unit_header(sections: DwarfSections, offset: int, cache: dict) -> Unit:
    data = sections.info
    length, version = struct.unpack_from("<IH", data, offset)
    if length >= 0xFFFFFFF0:
        raise DwarfError(f"64-bit DWARF unit at offset {offset} is not supported")
    end = offset + 4 + length
    if version >= 5:
        unit_type, address_size, abbrev_offset = struct.unpack_from("<BBI", data, offset + 6)
        die_offset = offset + 12
        if unit_type in (c.UT_SKELETON, c.UT_SPLIT_COMPILE):
            die_offset += 8
        elif unit_type in (c.UT_TYPE, c.UT_SPLIT_TYPE):
            die_offset += 12
    elif version >= 2:
        abbrev_offset, address_size = struct.unpack_from("<IB", data, offset + 6)
        unit_type, die_offset = c.UT_COMPILE, offset + 11
    else:
        raise DwarfError(f"DWARF version {version} at offset {offset} is not supported")
    key = (abbrev_offset, address_size, version)
    if key not in cache:
        cache[key] = parse_abbrevs(sections.abbrev, abbrev_offset, address_size, version)
    return Unit(sections, offset, version, unit_type, address_size, cache[key], die_offset, end)


def _first_die_attributes(unit: Unit) -> dict:
    code, pos = read_uleb(unit.sections.info, unit.die_offset)
    if code == 0:
        return {}
    return read_attributes(unit, unit.abbrevs[code], pos)[0]


def read_attributes(unit: Unit, abbrev: Abbrev, pos: int) -> tuple[dict, int]:
    """The DIE's attributes as {name: (form, raw value)}, and the position after them."""
    data, values = unit.sections.info, dict(abbrev.constants)
    for kind, first, second in abbrev.plan:
        if kind == FIXED:
            # {name: (form, value)} for the whole run, zipped and stored in C
            names, run_forms = second
            values.update(
                zip(names, zip(run_forms, first.unpack_from(data, pos), strict=True), strict=True)
            )
            pos += first.size
        else:
            value, pos = forms.read(second, data, pos, unit.address_size, unit.version)
            values[first] = (second, value)
    return values, pos


def skip_attributes(unit: Unit, abbrev: Abbrev, pos: int) -> int:
    """The position after the DIE's attributes, decoding only what has no fixed size."""
    if abbrev.fixed_size is not None:
        return pos + abbrev.fixed_size
    data = unit.sections.info
    for kind, first, second in abbrev.plan:
        if kind == FIXED:
            pos += first.size
        elif kind == VARIABLE:
            pos = forms.skip(second, data, pos, unit.address_size, unit.version)
    return pos


class Die(NamedTuple):  # a tuple: the walker makes one per function, inline and call site
    offset: int
    tag: int
    depth: int
    attributes: dict[int, tuple[int, object]]


def walk(  # noqa: C901 (one hot loop over every DIE: a call per DIE would cost more)
    unit: Unit,
    wanted: frozenset[int],
    descend: frozenset[int],
    leaves: frozenset[int] = frozenset(),
) -> Iterator[Die]:
    """Yield the DIEs with a `wanted` tag, in order, with their depth.

    Subtrees of other DIEs are entered only if their tag is in `descend` or
    they lack a DW_AT_sibling to jump over them. Wanted DIEs whose tag is in
    `leaves` are yielded and their children jumped over the same way.
    """
    data, pos, depth = unit.sections.info, unit.die_offset, 0
    steps = _walk_steps(unit.abbrevs, wanted, descend, leaves)
    while pos < unit.end:
        die_offset = pos
        code = data[pos]
        if code < 0x80:  # inlined read_uleb: a large firmware has a million DIEs
            pos += 1
        else:
            code, pos = read_uleb(data, pos)
        if code == 0:
            depth -= 1
            if depth < 0:
                return
            continue
        try:
            step, size, abbrev = steps[code]
        except KeyError:
            raise unknown_abbreviation(code, die_offset) from None
        if step == _JUMP:
            sibling = unit.offset + struct.unpack_from("<I", data, pos + size)[0]
            if pos < sibling <= unit.end:
                pos = sibling
                continue
            # A link back (or out of the unit) would walk in circles: like GDB, which
            # complains "DW_AT_sibling points backwards" and does not follow it
            # (gdb/dwarf2/cooked-indexer.c), walk the DIE's children instead.
            step, size = _SKIP, abbrev.fixed_size
        if step == _YIELD:
            attributes, pos = read_attributes(unit, abbrev, pos)
            yield Die(die_offset, abbrev.tag, depth, attributes)
            if size is not None:  # a leaf: on to its sibling, past its children
                pos, depth = _leaf_end(unit, pos, size, attributes, depth)
                continue
        elif size is not None:
            pos += size
        else:
            pos = skip_attributes(unit, abbrev, pos)
        depth += abbrev.has_children


def _leaf_end(unit: Unit, pos: int, sibling_at: int, attributes: dict, depth: int):
    """Where the walk goes on after a leaf's attributes, and at what depth: its
    DW_AT_sibling, unless that points backwards (as in walk), then its children."""
    sibling = unit.offset + attributes[c.AT_SIBLING][1]
    if pos < sibling <= unit.end:
        return sibling, depth
    return pos, depth + 1


def unknown_abbreviation(code: int, die_offset: int) -> DwarfError:
    return DwarfError(
        f"malformed .debug_info: the DIE at offset 0x{die_offset:x} uses abbreviation "
        f"code {code}, which its unit's table does not declare"
    )


# What walk does with a DIE: yield it, jump over its subtree (to DW_AT_sibling), or skip
# its attributes (and enter its children, if any).
_YIELD, _JUMP, _SKIP = 0, 1, 2


def _walk_steps(abbrevs: dict[int, Abbrev], wanted, descend, leaves) -> dict[int, tuple]:
    """Per abbreviation code, (step, size, abbrev): size is the DW_AT_sibling offset to
    jump with, or the fixed size of the attributes to skip (None if not fixed); for a
    DIE to yield, not None when it is a leaf whose children can be jumped over."""
    steps = {}
    for code, abbrev in abbrevs.items():
        if abbrev.tag in wanted:
            jump = abbrev.has_children and abbrev.tag in leaves
            steps[code] = (_YIELD, abbrev.sibling_offset if jump else None, abbrev)
        elif (
            abbrev.has_children and abbrev.tag not in descend and abbrev.sibling_offset is not None
        ):
            steps[code] = (_JUMP, abbrev.sibling_offset, abbrev)
        else:
            steps[code] = (_SKIP, abbrev.fixed_size, abbrev)
    return steps

"""One pass over a compilation unit's .debug_info and .debug_line collecting what
symbolication needs: concrete functions, inline chains with call sites, and GDB's
line tables.

A unit is scanned when a lookup first needs it (index/units.py), not when the index
is built. Types and variables are never decoded here: the walker jumps over them, so
scanning time grows with the amount of code, not with the size of headers.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.info import Unit, walk
from symbolicator.dwarf.lines import LineHeader, Rows, decode, parse_header
from symbolicator.dwarf.ranges import die_ranges, unit_base_address
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.index.container import StringTable
from symbolicator.index.lines import UnitLines, bfd_steps, resolve_steps
from symbolicator.index.names import ScopeFacts, is_mangled_language, unit_scopes

WANTED = frozenset(
    {c.TAG_SUBPROGRAM, c.TAG_INLINED_SUBROUTINE, c.TAG_CALL_SITE, c.TAG_GNU_CALL_SITE}
)
# Their children are parameters only (DWARF 5 section 3.4.2): jumped over.
CALL_SITES = frozenset({c.TAG_CALL_SITE, c.TAG_GNU_CALL_SITE})
AT_LANGUAGE = 0x13
DESCEND = frozenset({c.TAG_LEXICAL_BLOCK, 0x39})  # lexical blocks, C++ namespaces


@dataclass
class Subprogram:
    ranges: list[tuple[int, int]]
    die_offset: int
    unit_offset: int
    inlines: list[tuple] = field(default_factory=list)  # see _inline
    call_sites: list[tuple] = field(default_factory=list)  # (return pc, origin DIE, is tail call)


class DieFacts(NamedTuple):
    """What call-site resolution needs to know about a subprogram DIE (a tuple: one per
    function and inline of the firmware)."""

    name: str | None
    origin: int | None  # DW_AT_abstract_origin or DW_AT_specification
    entry: int | None  # lowest code address, for DIEs with code
    declaration: bool
    abstract: bool  # DW_AT_inline: an abstract instance, no code of its own


@dataclass
class UnitScan:
    """What one unit contributes to the index's tables, in DIE and line-table order."""

    subprograms: list[Subprogram] = field(default_factory=list)
    line_steps: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    addr2line_steps: list[tuple[int, int, int, int, int]] = field(default_factory=list)


@dataclass
class ScanResult:
    """What scanned units know about DIEs, for names and call sites. A reference may
    lead into a unit not scanned yet (DW_FORM_ref_addr): `reach` scans the unit that
    holds a DIE offset, so these answers never depend on which units came first."""

    dies: dict[int, DieFacts] = field(default_factory=dict)
    file_paths: dict[int, int] = field(default_factory=dict)  # display id -> full path id
    names: dict[int, str] = field(default_factory=dict)  # name_of, once the scan is done
    languages: dict[int, int | None] = field(default_factory=dict)  # unit offset -> DW_LANG
    scopes: dict[int, ScopeFacts] = field(default_factory=dict)  # C++ and Rust units only
    file_names: dict[tuple, int] = field(default_factory=dict)  # see _intern_file
    reach: Callable[[int], None] = lambda die_offset: None

    def facts(self, die_offset: int) -> DieFacts | None:
        if die_offset not in self.dies:
            self.reach(die_offset)
        return self.dies.get(die_offset)

    def scope(self, die_offset: int) -> ScopeFacts | None:
        if die_offset not in self.scopes:
            self.reach(die_offset)
        return self.scopes.get(die_offset)

    def name_of(self, die_offset: int) -> str:
        """Follow DW_AT_abstract_origin / DW_AT_specification to a name."""
        found = self.names.get(die_offset)
        if found is None:
            found = self.names[die_offset] = self._name_of(die_offset)
        return found

    def _name_of(self, die_offset: int) -> str:
        seen = set()
        while die_offset is not None and die_offset not in seen:
            seen.add(die_offset)
            facts = self.facts(die_offset)
            if facts is None:
                break
            if facts.name:
                return facts.name
            die_offset = facts.origin
        return "??"


def scan_unit(sections: DwarfSections, unit: Unit, strings: StringTable, result: ScanResult):
    """Scan one unit: its DIE facts go into `result`, its tables' rows are returned."""
    language = result.languages[unit.offset] = unit.attributes.get(AT_LANGUAGE, (0, None))[1]
    if is_mangled_language(language):
        unit_scopes(unit, result.scopes)  # names by DWARF scopes, see index/names.py
    found = UnitScan()
    file_ids, first_file = _unit_lines(sections, unit, strings, result, found)
    _unit_functions(unit, file_ids, first_file, result, found)
    return found


# -- lines -----------------------------------------------------------------------


def _unit_lines(sections, unit: Unit, strings: StringTable, result: ScanResult, found: UnitScan):
    """Record the unit's lines; return its file ids and the number of its first file.

    DW_AT_call_file and DW_AT_decl_file count from the line table's first file,
    whose number depends on the line table's version, not the unit's (GCC
    pairs DWARF 5 units with version 3 line tables).
    """
    stmt_list = unit.attributes.get(c.AT_STMT_LIST)
    if stmt_list is None or not sections.line:
        return [], 1
    header = parse_header(sections, stmt_list[1], unit.comp_dir(), unit.name())
    comp_dir = unit.comp_dir()
    file_ids = [_intern_file(header, entry, comp_dir, strings, result) for entry in header.files]
    rows = Rows()
    decode(sections, header, rows, file_ids)
    main = strings.intern(unit.name()) if unit.name() else None
    lines = UnitLines(main)
    skip_zero = unit_base_address(unit) > 0
    for start, stop in rows.sequences():
        lines.add_rows(rows, start, stop, skip_sequence_at_zero=skip_zero)
        found.addr2line_steps.extend(bfd_steps(rows, start, stop, result.file_paths))
    found.line_steps.extend(resolve_steps(lines))
    return file_ids, header.first_file_index


def _intern_file(header: LineHeader, entry, comp_dir: str, strings, result: ScanResult) -> int:
    """GDB's name for a line-table file: its directory joined on unless that is
    the unit's own directory entry 0 in DWARF 4 and older (dwarf2_start_subfile).

    Every unit names the same headers again: each (directory, name, comp_dir) is
    joined once."""
    directory = entry.directory
    if header.version < 5 and header.directories and directory == header.directories[0]:
        directory = ""
    key = (directory, entry.name, comp_dir)
    display = result.file_names.get(key)
    if display is None:
        display = result.file_names[key] = _intern_path(directory, entry.name, strings)
        result.file_paths.setdefault(display, _intern_full(strings[display], comp_dir, strings))
    return display


def _intern_path(directory: str, name: str, strings) -> int:
    if directory and not posixpath.isabs(name):
        name = posixpath.join(directory, name)
    return strings.intern(name)


def _intern_full(name: str, comp_dir: str, strings) -> int:
    return strings.intern(name if posixpath.isabs(name) else posixpath.join(comp_dir, name))


# -- functions and inlines ---------------------------------------------------------


def _unit_functions(unit: Unit, file_ids, first_file: int, result: ScanResult, found: UnitScan):
    """Collect subprograms with code, and the inlined subroutines inside each."""
    stack: list[tuple[int, Subprogram | None, int]] = []  # (depth, function, inline depth)
    for die in walk(unit, WANTED, DESCEND, CALL_SITES):
        while stack and stack[-1][0] >= die.depth:
            stack.pop()
        if die.tag in CALL_SITES:
            if stack and stack[-1][1] is not None:
                _call_site(unit, die, stack[-1][1])
            continue
        ranges = die_ranges(unit, die.attributes)
        _remember(unit, die, ranges, result)
        if die.tag == c.TAG_SUBPROGRAM:
            stack.append((die.depth, _subprogram(die, ranges, unit.offset, found), 0))
            continue
        function, inline_depth = (stack[-1][1], stack[-1][2]) if stack else (None, 0)
        if function is not None:
            _inline(unit, die, ranges, function, inline_depth + 1, file_ids, first_file)
        stack.append((die.depth, function, inline_depth + 1))


def _remember(unit: Unit, die, ranges, result: ScanResult) -> None:
    attributes = die.attributes
    name = attributes.get(c.AT_NAME)
    origin = attributes.get(c.AT_ABSTRACT_ORIGIN) or attributes.get(c.AT_SPECIFICATION)
    # Positional: keyword arguments make each of these ~40k tuples twice as slow to build.
    result.dies[die.offset] = DieFacts(
        unit.string(*name) if name else None,
        unit.reference(*origin) if origin else None,
        ranges[0][0] if ranges else None,  # entry: GDB's BLOCK_ENTRY_PC
        c.AT_DECLARATION in attributes,  # declaration
        c.AT_INLINE in attributes,  # abstract
    )


def _subprogram(die, ranges, unit_offset: int, found: UnitScan) -> Subprogram | None:
    if not ranges:
        return None  # a declaration or an abstract instance: no code of its own
    subprogram = Subprogram(ranges, die.offset, unit_offset)
    found.subprograms.append(subprogram)
    return subprogram


def _inline(unit: Unit, die, ranges, function: Subprogram, depth: int, file_ids, first_file):
    attributes = die.attributes
    origin = attributes.get(c.AT_ABSTRACT_ORIGIN)
    origin_offset = unit.reference(*origin) if origin else die.offset
    call_file = attributes.get(c.AT_CALL_FILE, (None, 0))[1] - first_file
    file_id = file_ids[call_file] if 0 <= call_file < len(file_ids) else 0xFFFFFFFF
    call_line = attributes.get(c.AT_CALL_LINE, (None, 0))[1]
    # binutils 2.40's addr2line does not see an inline whose DW_AT_ranges is an index
    # (DW_FORM_rnglistx, as clang writes them); GDB does (tests/fixtures/README.md).
    seen = attributes.get(c.AT_RANGES, (None, None))[0] != c.FORM_RNGLISTX
    for low, high in ranges:
        function.inlines.append(
            (low, high, depth, origin_offset, file_id, call_line, die.offset, seen)
        )


def _call_site(unit: Unit, die, function: Subprogram) -> None:
    """DW_TAG_call_site (DWARF 5) or DW_TAG_GNU_call_site: where a call returns, whom it
    calls, and whether it is a tail call; GDB builds TAILCALL frames from these."""
    attributes = die.attributes
    found = attributes.get(c.AT_CALL_RETURN_PC) or attributes.get(c.AT_LOW_PC)
    if found is None:
        return
    origin = attributes.get(c.AT_CALL_ORIGIN) or attributes.get(c.AT_ABSTRACT_ORIGIN)
    tail = c.AT_CALL_TAIL_CALL in attributes or c.AT_GNU_TAIL_CALL in attributes
    function.call_sites.append(
        (unit.address(*found) & ~1, unit.reference(*origin) if origin else None, tail)
    )

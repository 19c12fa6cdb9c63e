"""The tables of an address block (index/units.py), made when a lookup first needs them.

A block's tables are what the whole-firmware tables were before they were made
lazily, restricted to the block: the DWARF functions with code in it, painted as
GDB's block lookup sees them, their inline chains and call sites, and GDB's and
binutils' line tables over its addresses. Every unit with code in the block is
scanned (dwarf_scan.py) once, whichever block needs it first. Blocks are disjoint,
so a lookup at an address asks one block and gets the answer the whole-firmware
table gave.

Made once per loaded index (and kept as long as it), under a lock: a worker's
threads share a loaded index, and a block is made once.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.info import Unit, unit_at
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.index.call_sites import CallSiteTable
from symbolicator.index.container import StringTable
from symbolicator.index.dwarf_scan import ScanResult, Subprogram, UnitScan, scan_unit
from symbolicator.index.functions import Function, FunctionTable
from symbolicator.index.inlines import InlineTable
from symbolicator.index.lines import NO_FILE, LineTable
from symbolicator.index.names import Namer, is_mangled_language
from symbolicator.index.units import UnitTable
from symbolicator.leb128 import Leb128Error

# What reading past the end of a section, an unknown abbreviation code or a bad
# offset raises in the decoders: a corrupt ELF, reported as such.
MALFORMED = (
    IndexError,
    KeyError,
    ValueError,
    OverflowError,
    StopIteration,
    struct.error,
    Leb128Error,  # the decoders' numbers: say which part of the ELF held it
)


@contextlib.contextmanager
def reading_dwarf():
    """Decode DWARF with the cycle collector paused, and report a decoder's error as
    the ELF's.

    Decoding allocates millions of small tuples that all stay alive until it ends,
    so each allocation threshold sets off a collection that finds nothing to free,
    and the full collections walk every one of them: about a third of the time on a
    large firmware. Decoding makes no reference cycles worth collecting early;
    reference counting still frees everything else as usual. The collector's state
    is process-wide, so it is restored only if it was on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    except MALFORMED as error:
        detail = f"{type(error).__name__}: {error}"[:120]
        raise DwarfError(f"the ELF's debug information is malformed ({detail})") from error
    finally:
        if enabled:
            gc.enable()


@dataclass
class BlockTables:
    functions: FunctionTable  # DWARF functions; dwarf_id is the subprogram's DIE offset
    numbers: dict[int, int]  # subprogram DIE offset -> its number in inlines and call_sites
    inlines: InlineTable
    call_sites: CallSiteTable
    lines: LineTable  # as GDB answers
    addr2line_lines: LineTable  # as binutils' addr2line answers


class Expansion:
    """The units scanned so far and the tables of the blocks made so far.

    File and function names of these tables are ids in `strings`, this object's own
    table: what a stored index holds never depends on which lookups came first.
    """

    def __init__(
        self,
        sections: DwarfSections,
        units: UnitTable,
        function_symbol: Callable[[str], int | None],
    ):
        self.sections, self.units = sections, units
        self.strings = StringTable()
        self.found = ScanResult(reach=self._reach)
        self._naming = Naming(self.found, sections)
        self._function_symbol = function_symbol
        self._scans: dict[int, _Scanned] = {}  # rows of units with blocks still to make
        self._scanned: set[int] = set()
        self._blocks: dict[int, BlockTables] = {}
        self._blocks_left = Counter(u for b in range(units.block_count) for u in units.members(b))
        self._inline_names: dict[tuple, tuple[int, int, int]] = {}
        self._abbrevs: dict = {}
        self._lock = threading.RLock()

    def block(self, number: int) -> BlockTables:
        found = self._blocks.get(number)
        if found is None:
            with self._lock, reading_dwarf():
                found = self._blocks.get(number)
                if found is None:
                    found = self._blocks[number] = _compact(self._make(number), self.strings)
                    self._forget_scans(number)
        return found

    def _forget_scans(self, block: int) -> None:
        """A unit's rows are kept until every block it has code in is made."""
        for unit in self.units.members(block):
            self._blocks_left[unit] -= 1
            if not self._blocks_left[unit]:
                self._scans.pop(unit, None)

    def file_path(self, display_id: int) -> int | None:
        return self.found.file_paths.get(display_id)

    def _make(self, block: int) -> BlockTables:
        low, high = self.units.bounds(block)
        scans = [self._scan(unit) for unit in self.units.members(block)]
        subprograms = [
            sub
            for scan in scans
            for sub in scan.subprograms
            if any(start < high and end > low for start, end in sub.ranges)
        ]
        functions, inline_groups = self._functions(subprograms, low, high)
        return BlockTables(
            FunctionTable.build(functions, self.strings),
            {sub.die_offset: number for number, sub in enumerate(subprograms)},
            InlineTable.build(inline_groups, self.strings),
            CallSiteTable.build([self._calls(sub) for sub in subprograms]),
            LineTable.build([step for scan in scans for step in scan.lines.within(low, high)]),
            LineTable.build([step for scan in scans for step in scan.a2l.within(low, high)]),
        )

    def _unit(self, number: int) -> Unit:
        return unit_at(self.sections, self.units.offsets[number], self._abbrevs)

    def _scan(self, number: int) -> _Scanned:
        found = self._scans.get(number)
        if found is None:
            scan = scan_unit(self.sections, self._unit(number), self.strings, self.found)
            found = self._scans[number] = _Scanned(scan)
            self._scanned.add(number)
        return found

    def _reach(self, die_offset: int) -> None:
        """Scan the unit holding a DIE that a name or call site refers to, once: its DIE
        facts stay in `found` after its rows are forgotten."""
        number = self.units.unit_holding(die_offset)
        if number is not None and number not in self._scanned:
            self._scan(number)

    def _functions(self, subprograms: list[Subprogram], low: int, high: int):
        """The subprograms' ranges inside [low, high) as Functions, and their inlines."""
        functions, groups = [], []
        for subprogram in subprograms:
            language = self.found.languages.get(subprogram.unit_offset)
            name, binutils, linkage = self._naming.names(subprogram.die_offset, language)
            functions += [
                Function(name, start, end, subprogram.die_offset, None, binutils, linkage)
                for start, end in subprogram.ranges
                if start < high and end > low
            ]
            groups.append([self._inline(entry, language) for entry in subprogram.inlines])
        return functions, groups

    def _inline(self, entry: tuple, language) -> tuple:
        low, high, depth, origin, file, line, die, seen = entry
        named = self._inline_names.get((origin, language))
        if named is None:
            name, binutils, linkage = self._naming.names(origin, language, self.strings)
            named = (self.strings.intern(name), binutils, linkage)
            self._inline_names[(origin, language)] = named
        return (low, high, depth, named[0], file, line, die, *named[1:], int(seen))

    def _calls(self, sub: Subprogram) -> list[tuple[int, int | None, bool]]:
        return [
            (pc, self._call_target(origin, sub.unit_offset), tail)
            for pc, origin, tail in sub.call_sites
        ]

    def _call_target(self, origin: int | None, unit: int) -> int | None:
        """The entry address a call site's DW_AT_call_origin names, resolved as GDB's
        read_call_site_scope does: a DIE with code gives its entry pc, a declaration is
        found in the symbol table by its linkage name (else its name), and an abstract
        instance stays unresolved. C++ declarations inside classes are not scanned."""
        if origin is None:
            return None
        found, naming = self.found, self._naming
        facts = found.facts(origin)
        language = found.languages.get(unit)
        if facts is None:
            return self._symbol(naming.linkage_name(origin, language))
        if facts.abstract:
            return None
        if facts.entry is not None:
            return facts.entry
        if facts.declaration:
            return self._symbol(naming.linkage_name(origin, language) or found.name_of(origin))
        return self._symbol(naming.declared_linkage_name(origin, language))

    def _symbol(self, name: str | None) -> int | None:
        return self._function_symbol(name) if name else None


class Naming:
    """GDB's and addr2line's names of each function and inlined function (index/names.py).

    C units keep the fast path: DW_AT_name found by the scan is both tools' answer."""

    def __init__(self, found: ScanResult, sections: DwarfSections):
        self._found, self._sections = found, sections
        self._namer: Namer | None = None

    @property
    def namer(self) -> Namer:
        if self._namer is None:
            self._namer = Namer(self._sections, _Scopes(self._found))
        return self._namer

    def linkage_name(self, offset: int, language) -> str | None:
        if not is_mangled_language(language):
            return None
        name, is_linkage = self.namer.binutils_name(offset)
        return name if is_linkage else None

    def declared_linkage_name(self, offset: int, language) -> str | None:
        if not is_mangled_language(language):
            return None
        return self.namer.declared_linkage_name(offset)

    def names(self, offset: int, language, strings=None) -> tuple[str, str | int, int]:
        """GDB's name, addr2line's name (its string id if `strings` is given) and
        whether the latter is a linkage name."""
        if not is_mangled_language(language):
            name = self._found.name_of(offset)
            binutils, is_linkage = name, True
        else:
            binutils, is_linkage = self.namer.binutils_name(offset)
            name, binutils = self.namer.gdb_name(offset, language), binutils or "??"
        return name, strings.intern(binutils) if strings else binutils, int(is_linkage)


def _compact(tables: BlockTables, strings: StringTable) -> BlockTables:
    """The tables with their columns as arrays of u32, as a stored index keeps them:
    a fifth of the memory of lists of ints, and a worker keeps them as long as the index."""
    sections = {}
    for table, prefix in ((tables.lines, "lines"), (tables.addr2line_lines, "a2l")):
        sections.update(table.sections(prefix))
    sections.update(tables.functions.sections())
    sections.update(tables.inlines.sections())
    sections.update(tables.call_sites.sections())
    sections = {name: memoryview(data) for name, data in sections.items()}
    return BlockTables(
        FunctionTable.from_sections(sections, strings),
        tables.numbers,
        InlineTable.from_sections(sections, strings),
        CallSiteTable.from_sections(sections),
        LineTable.from_sections(sections, "lines"),
        LineTable.from_sections(sections, "a2l"),
    )


class _Steps:
    """One unit's line steps sorted by address (stably: rows at one address keep their
    order, as LineTable.build's sort keeps it), to take a block's share by bisection."""

    def __init__(self, steps: list[tuple]):
        self._steps = sorted(steps, key=itemgetter(0))
        self._starts = [step[0] for step in self._steps]

    def within(self, low: int, high: int) -> list[tuple]:
        start = bisect.bisect_left(self._starts, low)
        return self._steps[start : bisect.bisect_left(self._starts, high, lo=start)]


class _Scanned:
    def __init__(self, scan: UnitScan):
        self.subprograms = scan.subprograms
        self.lines, self.a2l = _Steps(scan.line_steps), _Steps(scan.addr2line_steps)


class _Scopes:
    """The scopes Namer reads, scanning the unit of one it has not seen yet."""

    def __init__(self, found: ScanResult):
        self.get = found.scope


def scanned_extent(sections: DwarfSections, unit: Unit) -> list[tuple[int, int]]:
    """The addresses a unit without DW_AT_ranges or low_pc / high_pc has code at: its
    functions' ranges and its line sequences (binutils' view keeps every sequence)."""
    with reading_dwarf():
        scan = scan_unit(sections, unit, StringTable(), ScanResult())
    found = [span for sub in scan.subprograms for span in sub.ranges]
    start = None
    for address, file, *_ in scan.addr2line_steps:
        if file == NO_FILE:  # a sequence's end
            if start is not None and address > start:
                found.append((start, address))
            start = None
        elif start is None:
            start = address
    return found

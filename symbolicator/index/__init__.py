"""The symbol index: everything symbolication needs from an ELF.

Built in a worker when a symbol file arrives, stored as a blob, and loaded
(and cached by build id) for every coredump of that firmware. Like GDB, the build
reads only what every lookup needs (symbols, CFI, where each compilation unit has
code); a unit's functions, inline chains, call sites and line tables are made on
the first lookup inside it and kept with the loaded index (index/units.py).
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from symbolicator.cfi import Fde
from symbolicator.index import container
from symbolicator.index.call_sites import CallSite
from symbolicator.index.container import StringTable, as_u32_array, u32_array
from symbolicator.index.expansion import BlockTables, Expansion
from symbolicator.index.frames import FrameTable
from symbolicator.index.functions import Function, FunctionTable
from symbolicator.index.inlines import InlineEntry
from symbolicator.index.units import UnitTable
from symbolicator.memory import SOURCE_ELF, Span

# 10: units' tables made on first use, .debug_line kept (units); 9: functions named as
# GDB names them (C++ and Rust scopes, linkage names: 8), and the DWARF and read-only
# sections may stay in the ELF (meta "elf", "external": 7). An older index answers
# differently, so it is rebuilt from its ELF rather than read.
FORMAT_VERSION = 10
READABLE_FORMATS = (10,)
SYMBOL_COLUMNS = ("starts", "sizes", "names", "kinds", "sections", "files")


NO_STRING = 0xFFFFFFFF
KIND_OBJECT, KIND_FUNCTION, KIND_UNTYPED = 0, 1, 2  # STT_OBJECT, STT_FUNC, STT_NOTYPE
T = TypeVar("T")


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    is_function: bool = False
    file: str | None = None


@dataclass
class SymbolIndex:
    meta: dict
    strings: StringTable  # names of symbols; units' tables have their own (Expansion)
    symbol_functions: FunctionTable  # code symbols, as if there were no DWARF
    units: UnitTable
    frames: FrameTable
    symbols: dict[str, list[int]]  # parallel columns: starts, sizes, names, kinds, sections, files
    read_only: list[Span]
    dwarf: dict[str, bytes | memoryview]  # sections for units and variables, see dwarf_sections()
    _derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def build_id(self) -> bytes | None:
        value = self.meta.get("build_id")
        return bytes.fromhex(value) if value else None

    @property
    def entry(self) -> int:
        return self.meta.get("entry", 0)

    def function_at(self, address: int) -> Function | None:
        """The DWARF function GDB names `address` by, else the code symbol that covers it
        (FunctionTable.build: DWARF functions painted, symbols in the gaps)."""
        tables = self._tables_at(address)
        found = tables.functions.lookup(address) if tables else None
        return found if found is not None else self._symbol_function(address)

    def _symbol_function(self, address: int) -> Function | None:
        """The symbol covering an address no DWARF function covers. It owns the part of
        its range that neither DWARF functions nor symbols filled in before it own, so
        its piece is the one without DWARF, cut where the nearest DWARF functions are."""
        found = self.symbol_functions.lookup(address)
        if found is None:
            return None
        low, high = found.covers_from, found.end
        for block in self.units.blocks_within(low, high):
            low, high = self._block(block).functions.gap_around(address, low, high)
        if (low, high) == (found.covers_from, found.end):
            return found
        return replace(found, covers_from=low, end=high)

    def inline_chain(self, function: Function, address: int) -> list[InlineEntry]:
        if not function.has_dwarf:
            return []
        tables, number = self._subprogram(function)
        return tables.inlines.chain(number, address)

    def line_at(self, address: int) -> tuple[str, int] | None:
        tables = self._tables_at(address)
        found = tables.lines.lookup(address) if tables else None
        return (self._expansion.strings[found[0]], found[1]) if found else None

    def line_entry(self, address: int) -> tuple[int, bool] | None:
        """Start of the line-table row naming this address's line, and whether it is a
        statement (GDB's sal.pc, sal.is_stmt)."""
        tables = self._tables_at(address)
        return tables.lines.entry(address) if tables else None

    def addr2line_at(self, address: int) -> tuple[str, int] | None:
        """(full path, line) as `addr2line` prints it, which differs from GDB where
        several rows share an address (see index/lines.py)."""
        tables = self._tables_at(address)
        found = tables.addr2line_lines.lookup(address) if tables else None
        return (self._expansion.strings[found[0]], found[1]) if found else None

    def file_name(self, file_id: int) -> str | None:
        """A file id of an inline entry (InlineEntry.call_file)."""
        strings = self._expansion.strings
        return strings[file_id] if file_id < len(strings.strings) else None

    def file_path(self, display: str) -> str:
        """The full path addr2line prints for a file GDB names `display`."""
        strings = self._expansion.strings
        path = self._expansion.file_path(strings._ids.get(display))
        return display if path is None else strings[path]

    def call_site(self, function: Function, return_pc: int) -> CallSite | None:
        if not function.has_dwarf:
            return None
        tables, number = self._subprogram(function)
        return tables.call_sites.at(number, return_pc)

    def tail_calls(self, function: Function) -> list[CallSite]:
        if not function.has_dwarf:
            return []
        tables, number = self._subprogram(function)
        return tables.call_sites.tail_calls(number)

    def fde_for(self, address: int) -> Fde | None:
        return self.frames.fde_for(address)

    def read_all_units(self) -> None:
        """Make every unit's tables now rather than on first use: reads all of the
        DWARF a lookup may need, so a damaged unit raises its DwarfError here."""
        for block in range(self.units.block_count):
            self._block(block)

    @property
    def _expansion(self) -> Expansion:
        return self.derived("expansion", _expansion)

    def _block(self, block: int) -> BlockTables:
        return self._expansion.block(block)

    def _tables_at(self, address: int) -> BlockTables | None:
        block = self.units.block_at(address)
        return None if block is None else self._block(block)

    def _subprogram(self, function: Function) -> tuple[BlockTables, int]:
        """The tables holding a DWARF function's inlines and call sites, and its number
        there (a Function's dwarf_id is its subprogram DIE's offset). Any block the
        function has code in holds them; the one of the range this Function covers."""
        covers = function.start if function.covers_from is None else function.covers_from
        tables = self._tables_at(covers)
        return tables, tables.numbers[function.dwarf_id]

    def _symbol(self, index: int) -> Symbol:
        columns = self.symbols
        file = columns["files"][index]
        return Symbol(
            self.strings[columns["names"][index]],
            columns["starts"][index],
            columns["sizes"][index],
            columns["kinds"][index] == KIND_FUNCTION,
            None if file == NO_STRING else self.strings[file],
        )

    def symbol_at(self, address: int) -> tuple[str, int] | None:
        """The ELF symbol at or before `address` (GDB's <symbol+offset>)."""
        index = bisect.bisect_right(self.symbols["starts"], address) - 1
        if index < 0:
            return None
        return self.strings[self.symbols["names"][index]], address - self.symbols["starts"][index]

    def symbol_named(self, name: str) -> Symbol | None:
        """The lowest-addressed symbol of that name."""
        found = self.derived("symbols_by_name", _symbols_by_name).get(name)
        return None if found is None else self._symbol(found)

    def addr2line_function(self, address: int) -> tuple[str, str | None] | None:
        """Function name (and, without DWARF, source file) as addr2line finds them.

        Without DWARF, binutils takes the nearest function symbol at or below the
        address in its section, whatever its size (bfd elf.c elf_find_function),
        and the file of the STT_FILE symbol before it.
        """
        function = self.function_at(address)
        if function is not None and function.has_dwarf:
            return function.binutils_name or function.name, None
        return self.addr2line_symbol(address)

    def addr2line_symbol(self, address: int) -> tuple[str, str | None] | None:
        """The function symbol bfd's elf_find_function picks for `address`, and its file."""
        starts, kinds, sections = (self.symbols[k] for k in ("starts", "kinds", "sections"))
        section = self._section_of(address)
        index = bisect.bisect_right(starts, address) - 1
        while index >= 0:
            # bfd's elf32_arm_maybe_function_sym: untyped symbols (assembly labels)
            # count as functions too.
            if kinds[index] != KIND_OBJECT and sections[index] == section:
                symbol = self._symbol(index)
                return symbol.name, symbol.file
            index -= 1
        return None

    def _section_of(self, address: int) -> int | None:
        for number, (start, end, _) in enumerate(self.meta.get("sections", [])):
            if start <= address < end:
                return number
        return None

    def is_data_in_code(self, address: int) -> bool:
        """Whether `address` lies in a literal pool or other data placed among code."""
        points = self.meta.get("mapping", [])
        index = bisect.bisect_right(points, [address, True]) - 1
        return index >= 0 and bool(points[index][1])

    def section_is_code(self, number: int) -> bool:
        return bool(self.meta["sections"][number][2])

    def dwarf_sections(self):
        """The DWARF units and variables are read from, as DwarfSections (copied out on
        first use)."""
        from symbolicator.dwarf.sections import DwarfSections

        return self.derived(
            "dwarf_sections",
            lambda index: DwarfSections(**{k: bytes(v) for k, v in index.dwarf.items()}),
        )

    def derived(self, key: str, build: Callable[[SymbolIndex], T]) -> T:
        """State computed from this index alone (parsed DIEs, types), built on first use
        and kept as long as the index, so once per build id in a worker.

        It depends on nothing a coredump holds, so whether it exists never changes a
        result. Two threads may both build it; setdefault keeps the first one stored.
        """
        found = self._derived.get(key)
        if found is None:
            found = self._derived.setdefault(key, build(self))
        return found

    def subprogram_die(self, function: Function) -> tuple[int, int] | None:
        """(unit offset, DIE offset) of a DWARF function's subprogram."""
        if not function.has_dwarf:
            return None
        return self.units.offsets[self.units.unit_holding(function.dwarf_id)], function.dwarf_id

    def to_bytes(self, *, elf_sections: bool = True) -> bytes:
        """The index as one blob. With `elf_sections=False` the DWARF and read-only
        sections are left out and read back from the ELF at load (from_bytes(blob, elf)):
        they are most of an index and the ELF is kept anyway."""
        frames_meta, sections = self.frames.sections()
        sections.update(self.stored_sections())
        meta = {**self.meta, "ro": [span.address for span in self.read_only], "frames": frames_meta}
        if not elf_sections:
            meta["external"] = {
                name: zlib.crc32(sections.pop(name))
                for name in self.meta.get("elf", {}).get("sections", {})
                if name in sections
            }
        return container.pack(meta, sections)

    def stored_sections(self) -> dict[str, bytes]:
        """The index's tables as the bytes to_bytes stores (frames aside)."""
        sections = {}
        sections.update(self.symbol_functions.sections())
        sections.update(self.units.sections())
        for column, values in self.symbols.items():
            sections[f"symbols.{column}"] = u32_array(values)
        for name, data in self.dwarf.items():
            sections[f"dwarf.{name}"] = data
        for number, span in enumerate(self.read_only):
            sections[f"ro.{number}"] = span.data
        sections["strings"] = self.strings.to_bytes()
        return sections

    @staticmethod
    def is_readable(blob: bytes) -> bool:
        """Whether this dre reads the stored index; an older format must be built again."""
        return container.unpack(blob)[0].get("format") in READABLE_FORMATS

    @staticmethod
    def needs_elf(blob: bytes) -> bool:
        """Whether this stored index reads sections from its ELF (to_bytes(elf_sections=False))."""
        return bool(container.unpack(blob)[0].get("external"))

    @classmethod
    def from_bytes(cls, blob: bytes, elf: bytes | None = None) -> SymbolIndex:
        """Load a stored index; `elf` is the ELF it was built from, needed when it was
        stored without the ELF's sections."""
        meta, sections = container.unpack(blob)
        if meta.get("format") not in READABLE_FORMATS:
            raise container.IndexFormatError(
                f"symbol index format {meta.get('format')} is not {FORMAT_VERSION}; rebuild it"
            )
        sections.update(_sections_from_elf(meta, elf))
        strings = StringTable.from_bytes(sections["strings"])
        read_only = [
            Span(address, bytes(sections[f"ro.{n}"]), SOURCE_ELF)
            for n, address in enumerate(meta.pop("ro"))
        ]
        return cls(
            meta,
            strings,
            FunctionTable.from_sections(sections, strings),
            UnitTable.from_sections(sections),
            FrameTable.from_sections(meta.pop("frames"), sections),
            {c: as_u32_array(sections[f"symbols.{c}"]) for c in SYMBOL_COLUMNS},
            read_only,
            {k[len("dwarf.") :]: v for k, v in sections.items() if k.startswith("dwarf.")},
        )


def _sections_from_elf(meta: dict, elf: bytes | None) -> dict[str, memoryview]:
    """The sections a stored index left in its ELF, checked against the checksums taken
    when it was stored: another ELF (or a damaged one) must not be read as this one."""
    external = meta.pop("external", None)
    if not external:
        return {}
    described = meta["elf"]
    if elf is None:
        raise container.IndexFormatError(
            "this symbol index reads its DWARF and read-only sections from its ELF; "
            "load it with the ELF's bytes"
        )
    if len(elf) != described["size"]:
        raise container.IndexFormatError(
            f"the ELF given has {len(elf)} bytes, the one this index was built from "
            f"{described['size']}"
        )
    view, found = memoryview(elf), {}
    for name, checksum in external.items():
        offset, size = described["sections"][name]
        found[name] = view[offset : offset + size]
        if zlib.crc32(found[name]) != checksum:
            raise container.IndexFormatError(
                f"the ELF given is not the one this index was built from ({name} differs)"
            )
    return found


def _symbols_by_name(index: SymbolIndex) -> dict[str, int]:
    """Symbol number by name, the first (lowest address) where several share one."""
    found: dict[str, int] = {}
    for number, name_id in enumerate(index.symbols["names"]):
        found.setdefault(index.strings[name_id], number)
    return found


def _expansion(index: SymbolIndex) -> Expansion:
    def function_symbol(name: str) -> int | None:
        symbol = index.symbol_named(name)
        return symbol.address if symbol is not None and symbol.is_function else None

    return Expansion(index.dwarf_sections(), index.units, function_symbol)


def build_index(elf_data: bytes) -> SymbolIndex:
    from symbolicator.index.builder import build

    return build(elf_data)

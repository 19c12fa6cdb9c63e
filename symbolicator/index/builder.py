"""Building a SymbolIndex from ELF bytes."""

from __future__ import annotations

import bisect

from symbolicator.cfi import FrameSection
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.info import iter_units
from symbolicator.dwarf.sections import SECTION_NAMES, DwarfSections
from symbolicator.elf import ElfImage
from symbolicator.index import (
    FORMAT_VERSION,
    KIND_FUNCTION,
    KIND_OBJECT,
    KIND_UNTYPED,
    NO_STRING,
    SymbolIndex,
)
from symbolicator.index.container import StringTable
from symbolicator.index.expansion import reading_dwarf, scanned_extent
from symbolicator.index.frames import FrameTable
from symbolicator.index.functions import NO_DWARF, Function, FunctionTable
from symbolicator.index.names import gdb_symbol_name
from symbolicator.index.units import UnitTable
from symbolicator.memory import SOURCE_ELF, Span

SYMBOL_KINDS = {"func": KIND_FUNCTION, "object": KIND_OBJECT, "other": KIND_UNTYPED}


def build(elf_data: bytes) -> SymbolIndex:
    with reading_dwarf():
        index = _build(elf_data)
    _check_storable(index)
    return index


def _check_storable(index: SymbolIndex) -> None:
    """Store the index once, here, where a failure is the ELF's: every table is kept as
    32-bit columns, and a damaged ELF can give a value that fits none (an address past
    4 GiB). Making the columns is enough: the rest of storing (joining the sections)
    cannot fail."""
    try:
        index.stored_sections()
        index.frames.sections()
    except (OverflowError, TypeError) as error:
        raise DwarfError(
            f"the ELF's debug information is malformed: a value does not fit the symbol "
            f"index's 32-bit columns ({error})"
        ) from error


def _build(elf_data: bytes) -> SymbolIndex:
    """The tables every lookup needs. A unit's functions, inline chains, call sites and
    lines are made when a lookup first needs them (index/units.py)."""
    elf = ElfImage(elf_data)
    strings = StringTable()
    sections = DwarfSections(**elf.dwarf_sections())
    units = UnitTable.build(list(iter_units(sections)), lambda unit: scanned_extent(sections, unit))
    return SymbolIndex(
        meta={
            "format": FORMAT_VERSION,
            "build_id": elf.build_id.hex() if elf.build_id else None,
            "machine": elf.machine,
            "entry": elf.entry & ~1,
            "has_dwarf": elf.has_dwarf,
            "sections": elf.section_ranges(),
            "mapping": elf.mapping_symbols(),
            "elf": {"size": len(elf_data), "sections": _elf_extents(elf)},
        },
        strings=strings,
        symbol_functions=FunctionTable.build(_minimal_symbol_functions(elf), strings),
        units=units,
        frames=FrameTable.build(_frame_sections(elf)),
        dwarf=_dwarf_sections(elf),
        symbols=_symbol_columns(elf, strings),
        read_only=[Span(s.address, s.data, SOURCE_ELF) for s in elf.read_only_sections],
    )


def _minimal_symbol_functions(elf: ElfImage) -> list[Function]:
    """Code symbols as GDB's minimal symbols name the addresses no DWARF function covers
    (minsyms.c lookup_minimal_symbol_by_pc_section), in the order FunctionTable.build
    fills them in, each taking what nobody took before:

    1. Sized symbols (functions, and untyped symbols with a size), the later start
       first: GDB takes the nearest symbol at or below the address that covers it,
       and of several at one address the last by name.
    2. Zero-sized ones (assembly labels, functions without .size): where no sized
       symbol covers the address, GDB takes the nearest label above the closest sized
       symbol below it, so a label reaches up to the next symbol of its section.
    An address past the end of a sized symbol with no label after it gets no name.
    """
    sections = dict(zip(elf.section_indexes(), elf.section_ranges(), strict=True))
    code = [
        s
        for s in elf.symbols
        if s.kind in ("func", "other") and s.section in sections and sections[s.section][2]
    ]
    sized = sorted((s for s in code if s.size), key=lambda s: (s.address, s.name), reverse=True)
    found = [_symbol_function(s, s.address + s.size) for s in sized]
    starts = [s.address for s in code]  # sorted, as elf.symbols is
    for symbol in code:
        if symbol.size:
            continue
        section_end = sections[symbol.section][1]
        after = bisect.bisect_right(starts, symbol.address)
        end = min(starts[after], section_end) if after < len(starts) else section_end
        found.append(_symbol_function(symbol, max(end, symbol.address + 2)))
    return found


def _symbol_function(symbol, end: int) -> Function:
    """GDB shows a minimal symbol demangled; addr2line as it is."""
    return Function(gdb_symbol_name(symbol.name), symbol.address, end, NO_DWARF, None, symbol.name)


DWARF_SECTIONS = (
    "info",
    "abbrev",
    "line",
    "str",
    "line_str",
    "str_offsets",
    "addr",
    "loc",
    "loclists",
    "ranges",
    "rnglists",
)


def _dwarf_sections(elf: ElfImage) -> dict[str, bytes]:
    """The DWARF sections units and variables are read from later, lazily, per unit."""
    found = elf.dwarf_sections()
    return {name: found[name] for name in DWARF_SECTIONS if name in found}


def _elf_extents(elf: ElfImage) -> dict[str, list[int]]:
    """Where the index's DWARF and read-only sections lie in the ELF file, so that a
    stored index can leave them out and read them from the ELF kept next to it."""
    extents = elf.file_extents()
    found = {}
    for name, key in SECTION_NAMES.items():
        if key in DWARF_SECTIONS and name in extents:
            found[f"dwarf.{key}"] = list(extents[name])
    for number, section in enumerate(elf.read_only_sections):
        if section.name in extents and extents[section.name][1] == len(section.data):
            found[f"ro.{number}"] = list(extents[section.name])
    return found


def _symbol_columns(elf: ElfImage, strings: StringTable) -> dict[str, list[int]]:
    section_numbers = {index: n for n, index in enumerate(elf.section_indexes())}
    symbols = elf.symbols  # sorted by address
    return {
        "starts": [s.address for s in symbols],
        "sizes": [s.size for s in symbols],
        "names": [strings.intern(s.name) for s in symbols],
        "kinds": [SYMBOL_KINDS[s.kind] for s in symbols],
        "sections": [section_numbers.get(s.section, NO_STRING) for s in symbols],
        "files": [strings.intern(s.file) if s.file else NO_STRING for s in symbols],
    }


def _frame_sections(elf: ElfImage) -> dict[str, FrameSection]:
    found = {}
    for name, key in ((".debug_frame", "debug_frame"), (".eh_frame", "eh_frame")):
        section = elf.section_contents(name)
        if section is not None:
            found[key] = FrameSection(section[1], section[0], key == "eh_frame")
    return found

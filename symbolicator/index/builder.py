"""Building a SymbolIndex from ELF bytes."""

from __future__ import annotations

import bisect
import contextlib
import gc
import struct

from symbolicator.cfi import FrameSection
from symbolicator.dwarf.forms import DwarfError
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
from symbolicator.index.call_sites import CallSiteTable
from symbolicator.index.container import StringTable
from symbolicator.index.dwarf_scan import scan
from symbolicator.index.frames import FrameTable
from symbolicator.index.functions import NO_DWARF, Function, FunctionTable
from symbolicator.index.inlines import InlineTable
from symbolicator.index.lines import LineTable
from symbolicator.index.names import Namer, gdb_symbol_name, is_mangled_language
from symbolicator.leb128 import Leb128Error
from symbolicator.memory import SOURCE_ELF, Span

SYMBOL_KINDS = {"func": KIND_FUNCTION, "object": KIND_OBJECT, "other": KIND_UNTYPED}

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


def build(elf_data: bytes) -> SymbolIndex:
    with _cyclic_gc_paused():
        try:
            index = _build(elf_data)
        except MALFORMED as error:
            detail = f"{type(error).__name__}: {error}"[:120]
            raise DwarfError(f"the ELF's debug information is malformed ({detail})") from error
    _check_storable(index)
    return index


def _check_storable(index: SymbolIndex) -> None:
    """Store the index once, here, where a failure is the ELF's: every table is kept as
    32-bit columns, and a damaged ELF can give a value that fits none (a call line in
    DW_FORM_sdata below zero, an address past 4 GiB). Making the columns is enough: the
    rest of storing (joining the sections) cannot fail and took 2 % of the build."""
    try:
        index.stored_sections()
        index.frames.sections()
    except (OverflowError, TypeError) as error:
        raise DwarfError(
            f"the ELF's debug information is malformed: a value does not fit the symbol "
            f"index's 32-bit columns ({error})"
        ) from error


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause the cycle collector while the index is built.

    The build allocates millions of small tuples that all stay alive until it ends,
    so each allocation threshold sets off a collection that finds nothing to free,
    and the full collections walk every one of them: about a third of the build
    time on a large firmware. The build makes no reference cycles worth collecting
    early; reference counting still frees everything else as usual. The collector's
    state is process-wide, so it is restored only if it was on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(elf_data: bytes) -> SymbolIndex:
    elf = ElfImage(elf_data)
    strings = StringTable()
    sections = DwarfSections(**elf.dwarf_sections())
    found = scan(sections, strings)
    naming = _Naming(found, sections)
    functions, inline_groups = _functions(elf, found, strings, naming)
    call_groups = [
        [
            (pc, _call_target(found, elf, naming, origin, sub.unit_offset), tail)
            for pc, origin, tail in sub.call_sites
        ]
        for sub in found.subprograms
    ]
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
        functions=functions,
        inlines=InlineTable.build(inline_groups, strings),
        lines=LineTable.build(found.line_steps),
        addr2line_lines=LineTable.build(found.addr2line_steps),
        frames=FrameTable.build(_frame_sections(elf)),
        call_sites=CallSiteTable.build(call_groups),
        subprogram_dies=[(sub.unit_offset, sub.die_offset) for sub in found.subprograms],
        dwarf=_variable_sections(elf),
        file_paths=found.file_paths,
        symbols=_symbol_columns(elf, strings),
        read_only=[Span(s.address, s.data, SOURCE_ELF) for s in elf.read_only_sections],
    )


def _functions(elf: ElfImage, found, strings: StringTable, naming: _Naming):
    functions, groups = [], []
    inline_names: dict[int, tuple[int, int, int]] = {}  # origin -> name ids, linkage flag
    for dwarf_id, subprogram in enumerate(found.subprograms):
        language = found.languages.get(subprogram.unit_offset)
        name, binutils, linkage = naming.names(subprogram.die_offset, language)
        functions += [
            Function(name, low, high, dwarf_id, None, binutils, linkage)
            for low, high in subprogram.ranges
        ]
        group = []
        for low, high, depth, origin, file, line, die, seen in subprogram.inlines:
            named = inline_names.get(origin)
            if named is None:
                name, binutils, linkage = naming.names(origin, language, strings)
                named = inline_names[origin] = (strings.intern(name), binutils, linkage)
            group.append((low, high, depth, named[0], file, line, die, *named[1:], int(seen)))
        groups.append(group)
    functions += _minimal_symbol_functions(elf)
    return FunctionTable.build(functions, strings), groups


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


class _Naming:
    """GDB's and addr2line's names of each function and inlined function (index/names.py).

    C units keep the fast path: DW_AT_name found by the scan is both tools' answer."""

    def __init__(self, found, sections: DwarfSections):
        self._found, self._sections = found, sections
        self._namer: Namer | None = None

    @property
    def namer(self) -> Namer:
        if self._namer is None:
            self._namer = Namer(self._sections, self._found.scopes)
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


VARIABLE_SECTIONS = (
    "info",
    "abbrev",
    "str",
    "line_str",
    "str_offsets",
    "addr",
    "loc",
    "loclists",
    "ranges",
    "rnglists",
)


def _variable_sections(elf: ElfImage) -> dict[str, bytes]:
    """The DWARF sections variables are read from later, lazily, per unit."""
    found = elf.dwarf_sections()
    return {name: found[name] for name in VARIABLE_SECTIONS if name in found}


def _elf_extents(elf: ElfImage) -> dict[str, list[int]]:
    """Where the index's DWARF and read-only sections lie in the ELF file, so that a
    stored index can leave them out and read them from the ELF kept next to it."""
    extents = elf.file_extents()
    found = {}
    for name, key in SECTION_NAMES.items():
        if key in VARIABLE_SECTIONS and name in extents:
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


def _call_target(found, elf: ElfImage, naming, origin: int | None, unit: int) -> int | None:
    """The entry address a call site's DW_AT_call_origin names, resolved as GDB's
    read_call_site_scope does: a DIE with code gives its entry pc, a declaration is
    found in the symbol table by its linkage name (else its name), and an abstract
    instance stays unresolved. C++ declarations inside classes are not scanned."""
    if origin is None:
        return None
    facts = found.dies.get(origin)
    language = found.languages.get(unit)
    if facts is None:
        return _symbol_address(elf, naming.linkage_name(origin, language))
    if facts.abstract:
        return None
    if facts.entry is not None:
        return facts.entry
    if facts.declaration:
        return _symbol_address(elf, naming.linkage_name(origin, language) or found.name_of(origin))
    return _symbol_address(elf, naming.declared_linkage_name(origin, language))


def _symbol_address(elf: ElfImage, name: str | None) -> int | None:
    symbol = elf.symbol_named(name) if name else None
    return symbol.address if symbol is not None and symbol.kind == "func" else None


def _frame_sections(elf: ElfImage) -> dict[str, FrameSection]:
    found = {}
    for name, key in ((".debug_frame", "debug_frame"), (".eh_frame", "eh_frame")):
        section = elf.section_contents(name)
        if section is not None:
            found[key] = FrameSection(section[1], section[0], key == "eh_frame")
    return found

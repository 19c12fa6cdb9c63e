"""Building a SymbolIndex from ELF bytes."""

from __future__ import annotations

import contextlib
import gc
import struct

from symbolicator.cfi import FrameSection
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.sections import SECTION_NAMES, DwarfSections
from symbolicator.elf import ElfImage
from symbolicator.index import FORMAT_VERSION, KIND_FUNCTION, KIND_OBJECT, NO_STRING, SymbolIndex
from symbolicator.index.call_sites import CallSiteTable
from symbolicator.index.container import StringTable
from symbolicator.index.dwarf_scan import scan
from symbolicator.index.frames import FrameTable
from symbolicator.index.functions import NO_DWARF, Function, FunctionTable
from symbolicator.index.inlines import InlineTable
from symbolicator.index.lines import LineTable
from symbolicator.leb128 import Leb128Error
from symbolicator.memory import SOURCE_ELF, Span

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
    functions, inline_groups = _functions(elf, found, strings)
    call_groups = [
        [(pc, _call_target(found, elf, origin), tail) for pc, origin, tail in sub.call_sites]
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


def _functions(elf: ElfImage, found, strings: StringTable):
    functions, groups = [], []
    for dwarf_id, subprogram in enumerate(found.subprograms):
        name = found.name_of(subprogram.die_offset)
        functions += [Function(name, low, high, dwarf_id) for low, high in subprogram.ranges]
        groups.append(
            [
                (low, high, depth, strings.intern(found.name_of(origin)), file, line, die)
                for low, high, depth, origin, file, line, die in subprogram.inlines
            ]
        )
    for symbol in elf.symbols:
        if symbol.kind == "func":
            functions.append(
                Function(
                    symbol.name, symbol.address, symbol.address + max(symbol.size, 2), NO_DWARF
                )
            )
    return FunctionTable.build(functions, strings), groups


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
        "kinds": [KIND_FUNCTION if s.kind == "func" else KIND_OBJECT for s in symbols],
        "sections": [section_numbers.get(s.section, NO_STRING) for s in symbols],
        "files": [strings.intern(s.file) if s.file else NO_STRING for s in symbols],
    }


def _call_target(found, elf: ElfImage, origin: int | None) -> int | None:
    """The entry address a call site's DW_AT_call_origin names, resolved as GDB's
    read_call_site_scope does: a DIE with code gives its entry pc, a declaration is
    found by name in the symbol table, and an abstract instance stays unresolved."""
    facts = found.dies.get(origin) if origin is not None else None
    if facts is None or facts.abstract:
        return None
    if facts.entry is not None:
        return facts.entry
    if facts.declaration:
        symbol = elf.symbol_named(found.name_of(origin))
        return symbol.address if symbol is not None and symbol.kind == "func" else None
    return None


def _frame_sections(elf: ElfImage) -> dict[str, FrameSection]:
    found = {}
    for name, key in ((".debug_frame", "debug_frame"), (".eh_frame", "eh_frame")):
        section = elf.section_contents(name)
        if section is not None:
            found[key] = FrameSection(section[1], section[0], key == "eh_frame")
    return found

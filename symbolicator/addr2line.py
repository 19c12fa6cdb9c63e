"""Function, file, line and inline chain of an address as binutils' addr2line -f -i
answers them (which is not always GDB's answer, see index/lines.py)."""

from __future__ import annotations

from symbolicator.index import SymbolIndex
from symbolicator.index.names import demangled


def addr2line(
    index: SymbolIndex, address: int, *, demangle: bool = False
) -> list[tuple[str, str, int]]:
    """(function, file, line) innermost first; "??" and 0 where unknown. Functions are
    named as addr2line names them (linkage names), demangled as `-C` does if asked."""
    frames = _frames(index, address)
    if demangle:
        return [(demangled(name), file, line) for name, file, line in frames]
    return frames


def _frames(index: SymbolIndex, address: int) -> list[tuple[str, str, int]]:
    named = index.addr2line_function(address)
    if named is None:
        return [("??", "??", 0)]
    function = index.function_at(address)
    if function is None or not function.has_dwarf:
        location = index.addr2line_at(address) or (named[1] or "??", 0)
        return [(named[0], *location)]
    location = index.addr2line_at(address)
    frames = []
    chain = _binutils_chain(index.inline_chain(function, address))
    for entry in chain:
        frames.append([entry.binutils_name, *(location or ("??", 0))])
        call_file = index.file_name(entry.call_file)
        location = (index.file_path(call_file), entry.call_line) if call_file else None
    frames.append([named[0], *(location or ("??", 0))])
    innermost = chain[:1] or [function]
    if not innermost[0].binutils_linkage:
        frames[0][0] = _symbol_name(index, address) or frames[0][0]
    return [tuple(frame) for frame in frames]


def _binutils_chain(chain: list) -> list:
    """The inline chain as bfd sees it: from the innermost inline it finds (see
    InlineEntry.binutils_sees) outwards through every enclosing one, found or not."""
    for number, entry in enumerate(chain):
        if entry.binutils_sees:
            return chain[number:]
    return []


def _symbol_name(index: SymbolIndex, address: int) -> str | None:
    """A C++ or Rust function without DW_AT_linkage_name: addr2line names the innermost
    frame after the ELF symbol bfd finds for the address, if there is one (bfd dwarf2.c
    _bfd_dwarf2_find_nearest_line_with_alt, elf.c elf_find_function). A batch run keeps
    that name only where the symbol starts at the function; dre answers each address
    as a run of addr2line for that address alone does."""
    found = index.addr2line_symbol(address)
    return found[0] if found else None


def format_addr2line(frames: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    return [(function, f"{file}:{line or '?'}") for function, file, line in frames]

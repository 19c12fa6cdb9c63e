"""Function, file, line and inline chain of an address as binutils' addr2line -f -i
answers them (which is not always GDB's answer, see index/lines.py)."""

from __future__ import annotations

from symbolicator.index import SymbolIndex


def addr2line(index: SymbolIndex, address: int) -> list[tuple[str, str, int]]:
    """(function, file, line) innermost first; "??" and 0 where unknown."""
    named = index.addr2line_function(address)
    if named is None:
        return [("??", "??", 0)]
    function = index.function_at(address)
    if function is None or not function.has_dwarf:
        location = index.addr2line_at(address) or (named[1] or "??", 0)
        return [(named[0], *location)]
    location = index.addr2line_at(address)
    frames = []
    for entry in index.inline_chain(function, address):
        frames.append((entry.name, *(location or ("??", 0))))
        call_file = index.file_name(entry.call_file)
        location = (index.file_path(call_file), entry.call_line) if call_file else None
    frames.append((function.name, *(location or ("??", 0))))
    return frames


def format_addr2line(frames: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    return [(function, f"{file}:{line or '?'}") for function, file, line in frames]

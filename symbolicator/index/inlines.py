"""Inlined subroutines: which inline chain covers an address.

Entries are grouped by the concrete function they were inlined into, so a
lookup scans only that function's (usually short) list.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from symbolicator.index.container import StringTable, as_u32_array, u32_array


@dataclass(frozen=True)
class InlineEntry:
    low: int
    high: int
    depth: int  # 1 = inlined directly into the concrete function
    name: str
    call_file: int  # file id, see SymbolIndex.file_name
    call_line: int
    die: int  # offset of the DW_TAG_inlined_subroutine in .debug_info
    binutils_name: str  # as addr2line prints it (index/names.py)
    binutils_linkage: bool  # False: addr2line prefers an ELF symbol's name when innermost
    binutils_sees: bool  # whether addr2line finds this inline at all (index/dwarf_scan.py)


class InlineTable:
    FIELDS = (
        "low",
        "high",
        "depth",
        "name",
        "call_file",
        "call_line",
        "die",
        "binutils_name",
        "linkage",
        "seen",
    )

    def __init__(self, columns: dict, group_starts, strings: StringTable):
        self._columns = columns
        self._group_starts = group_starts  # entries of function n: [starts[n], starts[n+1])
        self._strings = strings

    @classmethod
    def build(cls, groups: list[list[tuple]], strings: StringTable) -> InlineTable:
        """`groups[n]`: (low, high, depth, name_id, call_file, call_line, die, binutils name id,
        binutils linkage flag, binutils sees it) of function n."""
        entries, starts = [], [0]
        for group in groups:
            entries += sorted(group, key=itemgetter(2, 0))  # by depth, then address
            starts.append(len(entries))
        columns = {name: [entry[n] for entry in entries] for n, name in enumerate(cls.FIELDS)}
        return cls(columns, starts, strings)

    def chain(self, function: int, address: int) -> list[InlineEntry]:
        """Inline entries covering `address` in function `function`, innermost first."""
        if function + 1 >= len(self._group_starts):
            return []
        low, high = self._columns["low"], self._columns["high"]
        found = [
            i
            for i in range(self._group_starts[function], self._group_starts[function + 1])
            if low[i] <= address < high[i]
        ]
        found.sort(key=lambda i: -self._columns["depth"][i])
        return [self._entry(i) for i in found]

    def _entry(self, i: int) -> InlineEntry:
        c = self._columns
        return InlineEntry(
            c["low"][i],
            c["high"][i],
            c["depth"][i],
            self._strings[c["name"][i]],
            c["call_file"][i],
            c["call_line"][i],
            c["die"][i],
            self._strings[c["binutils_name"][i]],
            bool(c["linkage"][i]),
            bool(c["seen"][i]),
        )

    def __len__(self) -> int:
        return len(self._columns["low"])

    def sections(self) -> dict[str, bytes]:
        out = {f"inlines.{name}": u32_array(values) for name, values in self._columns.items()}
        out["inlines.groups"] = u32_array(self._group_starts)
        return out

    @classmethod
    def from_sections(cls, sections, strings: StringTable) -> InlineTable:
        columns = {name: as_u32_array(sections[f"inlines.{name}"]) for name in cls.FIELDS}
        return cls(columns, as_u32_array(sections["inlines.groups"]), strings)

"""Address -> concrete function, over sorted, non-overlapping ranges.

Functions come from DWARF subprograms where there is debug information and
from the ELF symbol table elsewhere (assembly, libraries built without -g).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from symbolicator.index.container import StringTable, as_u32_array, u32_array

NO_DWARF = 0xFFFFFFFF


@dataclass(frozen=True)
class Function:
    name: str
    start: int  # the entry address
    end: int
    dwarf_id: int = NO_DWARF  # offset of its DWARF subprogram's DIE, for inline lookups
    covers_from: int | None = None  # where this entry's range begins, if not at `start`
    binutils_name: str | None = None  # as addr2line prints it, where not `name` (names.py)
    binutils_linkage: bool = True  # False: addr2line prefers an ELF symbol's name (names.py)

    @property
    def has_dwarf(self) -> bool:
        return self.dwarf_id != NO_DWARF


class FunctionTable:
    COLUMNS = ("starts", "ends", "entries", "names", "dwarf", "binutils_names", "linkage")

    def __init__(
        self,
        starts,
        ends,
        entries,
        name_ids,
        dwarf_ids,
        binutils_ids,
        linkage,
        strings: StringTable,
    ):
        self._starts = starts  # range starts, sorted
        self._ends = ends
        self._entries = entries  # the function's entry address, for offsets and tail calls
        self._name_ids = name_ids
        self._dwarf_ids = dwarf_ids
        self._binutils_ids = binutils_ids
        self._linkage = linkage
        self._strings = strings
        self._made: dict[int, Function] = {}  # by range number: at most one per range

    @classmethod
    def build(cls, functions: list[Function], strings: StringTable) -> FunctionTable:
        """DWARF functions as GDB's block lookup sees them, symbols in the gaps.

        GDB answers a pc with the containing function that starts last, and of
        two starting together the later DIE (find_block_in_blockvector scans
        back from the last block starting at or before the pc): two names for
        one assembly routine, __mulsf3 then __aeabi_fmul, give __aeabi_fmul.
        Painting the ranges in (start, DIE order) gives the same answer at every
        address. A symbol's size may reach past the DWARF range (the literal
        pool after the code); GDB then names the address by the symbol, so
        symbols fill what DWARF leaves uncovered.
        """
        painted = Painting()
        dwarf = [f for f in functions if f.has_dwarf]
        for _, function in sorted(enumerate(dwarf), key=lambda item: (item[1].start, item[0])):
            painted.paint(function.start, function.end, function)
        for function in (f for f in functions if not f.has_dwarf):
            painted.fill(function.start, function.end, function)
        pieces = painted.pieces()
        return cls(
            [low for low, _, _ in pieces],
            [high for _, high, _ in pieces],
            [f.start for _, _, f in pieces],
            [strings.intern(f.name) for _, _, f in pieces],
            [f.dwarf_id for _, _, f in pieces],
            [strings.intern(f.binutils_name or f.name) for _, _, f in pieces],
            [int(f.binutils_linkage) for _, _, f in pieces],
            strings,
        )

    def lookup(self, address: int) -> Function | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0 or address >= self._ends[index]:
            return None
        found = self._made.get(index)
        if found is None:
            found = self._made[index] = self._function(index)
        return found

    def gap_around(self, address: int, low: int, high: int) -> tuple[int, int]:
        """[low, high) narrowed to the gap between functions that `address`, which no
        function of this table covers, lies in."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index >= 0:
            low = max(low, self._ends[index])
        if index + 1 < len(self._starts):
            high = min(high, self._starts[index + 1])
        return low, high

    def _function(self, index: int) -> Function:
        return Function(
            self._strings[self._name_ids[index]],
            self._entries[index],
            self._ends[index],
            self._dwarf_ids[index],
            self._starts[index],
            self._strings[self._binutils_ids[index]],
            bool(self._linkage[index]),
        )

    def __len__(self) -> int:
        return len(self._starts)

    def sections(self) -> dict[str, bytes]:
        return {
            "functions.starts": u32_array(self._starts),
            "functions.ends": u32_array(self._ends),
            "functions.entries": u32_array(self._entries),
            "functions.names": u32_array(self._name_ids),
            "functions.dwarf": u32_array(self._dwarf_ids),
            "functions.binutils_names": u32_array(self._binutils_ids),
            "functions.linkage": u32_array(self._linkage),
        }

    @classmethod
    def from_sections(cls, sections, strings: StringTable) -> FunctionTable:
        return cls(
            *(as_u32_array(sections[f"functions.{n}"]) for n in cls.COLUMNS),
            strings,
        )


class Painting:
    """Disjoint [low, high) pieces of address space, each owned by one function."""

    def __init__(self):
        self._lows: list[int] = []
        self._pieces: list[tuple[int, int, Function]] = []

    def paint(self, low: int, high: int, owner: Function) -> None:
        """Own [low, high), taking it from whoever owned parts of it."""
        if high <= low:
            return
        kept = []
        for piece_low, piece_high, piece_owner in self._overlapping(low, high):
            if piece_low < low:
                kept.append((piece_low, low, piece_owner))
            if piece_high > high:
                kept.append((high, piece_high, piece_owner))
        self._insert([*kept, (low, high, owner)])

    def fill(self, low: int, high: int, owner: Function) -> None:
        """Own the parts of [low, high) nobody owns yet."""
        if high <= low:
            return
        cursor, gaps = low, []
        for piece_low, piece_high, _ in self._overlapping(low, high, remove=False):
            if piece_low > cursor:
                gaps.append((cursor, piece_low, owner))
            cursor = max(cursor, piece_high)
        if cursor < high:
            gaps.append((cursor, high, owner))
        self._insert(gaps)

    def _overlapping(self, low: int, high: int, *, remove: bool = True):
        start = bisect.bisect_right(self._lows, low)
        if start and self._pieces[start - 1][1] > low:
            start -= 1
        stop = bisect.bisect_left(self._lows, high, lo=start)
        found = self._pieces[start:stop]
        if remove:
            del self._pieces[start:stop]
            del self._lows[start:stop]
        return found

    def _insert(self, pieces) -> None:
        for piece in pieces:
            index = bisect.bisect_left(self._lows, piece[0])
            self._lows.insert(index, piece[0])
            self._pieces.insert(index, piece)

    def pieces(self) -> list[tuple[int, int, Function]]:
        return list(self._pieces)

"""Compilation units, and which of them a lookup at an address must read.

GDB does not read every unit's DIEs and line program when it loads a file: it
keeps each unit's address ranges and reads ("expands") a unit when a lookup
first falls inside them (gdb/dwarf2/read.c, find_pc_sect_compunit_symtab). The
index does the same: the build stores each unit's place in .debug_info and the
addresses it covers, and the functions, inline chains, call sites and line
tables are made on first use (index/expansion.py).

Addresses are cut into *blocks*: the units' ranges, with those that overlap
merged into one. A lookup at an address needs the units with code in its block
and nothing else: the answer may depend on every unit with code there (the
functions a linker dropped all sit at address 0, say), never on code elsewhere.
Ranges that only touch stay apart, so neighbouring functions of different units
are different blocks; a unit's own touching ranges are one, so a function is
always inside one block.

A unit's DW_AT_ranges (or low_pc / high_pc) covers its functions and line
sequences (DWARF 5 section 3.1.1); a unit without them is scanned at build time
and covers what its functions and line sequences do.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from symbolicator.dwarf.info import Unit
from symbolicator.dwarf.ranges import die_ranges
from symbolicator.index.container import as_u32_array, u32_array

COLUMNS = ("offsets", "ends", "block_lows", "block_highs", "members", "member_starts")


class UnitTable:
    """The units of .debug_info (compile and partial units, in order) and the disjoint
    address blocks, each with the units that have code in it."""

    def __init__(self, offsets, ends, block_lows, block_highs, members, member_starts):
        self.offsets, self.ends = offsets, ends  # per unit: [offset, end) in .debug_info
        self._lows, self._highs = block_lows, block_highs  # per block, sorted
        self._members, self._member_starts = members, member_starts  # units of block b, in order

    @classmethod
    def build(cls, units: list[Unit], extent: Callable[[Unit], list[tuple[int, int]]]):
        """`extent(unit)` for units whose first DIE names no ranges (see the module doc)."""
        intervals = []
        for number, unit in enumerate(units):
            ranges = die_ranges(unit, unit.attributes) or extent(unit)
            intervals += [(low, high, number) for low, high in _joined(ranges)]
        blocks = _blocks(intervals)
        members, starts = [], [0]
        for _, _, block_units in blocks:
            members += sorted(block_units)
            starts.append(len(members))
        return cls(
            [unit.offset for unit in units],
            [unit.end for unit in units],
            [low for low, _, _ in blocks],
            [high for _, high, _ in blocks],
            members,
            starts,
        )

    def block_at(self, address: int) -> int | None:
        """The block holding `address`, if any unit has code there."""
        index = bisect.bisect_right(self._lows, address) - 1
        if index < 0 or address >= self._highs[index]:
            return None
        return index

    def blocks_within(self, low: int, high: int) -> range:
        """Blocks with code anywhere in [low, high)."""
        start = max(bisect.bisect_right(self._lows, low) - 1, 0)
        if start < len(self._highs) and self._highs[start] <= low:
            start += 1
        return range(start, bisect.bisect_left(self._lows, high))

    def bounds(self, block: int) -> tuple[int, int]:
        return self._lows[block], self._highs[block]

    def members(self, block: int) -> list[int]:
        """Numbers of the units with code in the block, in .debug_info order."""
        return list(self._members[self._member_starts[block] : self._member_starts[block + 1]])

    @property
    def block_count(self) -> int:
        return len(self._lows)

    def unit_holding(self, die_offset: int) -> int | None:
        """The number of the unit whose DIEs include this .debug_info offset."""
        index = bisect.bisect_right(self.offsets, die_offset) - 1
        return index if index >= 0 and die_offset < self.ends[index] else None

    def __len__(self) -> int:
        return len(self.offsets)

    def sections(self) -> dict[str, bytes]:
        columns = (
            self.offsets,
            self.ends,
            self._lows,
            self._highs,
            self._members,
            self._member_starts,
        )
        return {f"units.{n}": u32_array(c) for n, c in zip(COLUMNS, columns, strict=True)}

    @classmethod
    def from_sections(cls, sections) -> UnitTable:
        return cls(*(as_u32_array(sections[f"units.{n}"]) for n in COLUMNS))


def _joined(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One unit's ranges with those that touch or overlap joined."""
    found: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if found and low <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], high))
        else:
            found.append((low, high))
    return found


def _blocks(intervals: list[tuple[int, int, int]]) -> list[tuple[int, int, list[int]]]:
    """Merge intervals that overlap into blocks: (low, high, units with code in it).

    Intervals that only touch stay apart: neighbouring functions of different units
    do not make one block."""
    blocks: list[tuple[int, int, list[int]]] = []
    for low, high, unit in sorted(intervals):
        if high <= low:
            continue
        if blocks and low < blocks[-1][1]:
            last_low, last_high, units = blocks[-1]
            blocks[-1] = (last_low, max(last_high, high), units)
            if unit not in units:
                units.append(unit)
        else:
            blocks.append((low, high, [unit]))
    return blocks

"""Address -> source line, the way GDB 13 answers it.

GDB does not look rows up in the raw line program. It first builds one line
table per source file ("subfile") of a compilation unit, with its own rules
(gdb/dwarf2 line reader, buildsym.c), then answers a PC from whichever
subfile has the latest row at or before it (symtab.c find_pc_sect_line).
The two differ exactly where inlined header code and file switches meet, so
this module replays GDB's rules once per unit at index time and stores the
result as a step function: sorted start addresses, each with its file and
line (or no line). A lookup is then one bisect.

The steps, per unit:
1. Record rows into per-file tables like GDB's line state machine: a switch
   to another file, or the end of a sequence, ends the previous file's range
   with a line-0 marker; a non-statement row at an address that already has
   a statement row in another file is dropped; repeated rows of a line that
   had a non-zero discriminator are coalesced; a line-0 marker removes the
   rows at its own address.
2. Sort each file's table by address, line-0 markers first (stable).
3. At every address where any table has a row, pick the subfile whose last
   row at or before it is latest and not a line-0 marker (ties go to the
   unit's main file, then line-table order); a non-statement winner yields
   to a statement row at the same address.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from operator import itemgetter

from symbolicator.dwarf.forms import DwarfError
from symbolicator.index.container import as_u32_array, u32_array

NO_FILE = 0xFFFFFFFF


@dataclass
class _Entry:
    address: int
    line: int
    is_stmt: bool


@dataclass
class _Subfile:
    order: int
    # (address, line, is_stmt): plain tuples, ten times cheaper to make than objects,
    # and a large firmware has hundreds of thousands.
    rows: list[tuple[int, int, bool]] = field(default_factory=list)

    @property
    def entries(self) -> list[_Entry]:
        return [_Entry(*row) for row in self.rows]

    def record(self, address: int, line: int, is_stmt: bool) -> None:
        """buildsym.c record_line: a line-0 marker first removes rows at its address."""
        rows = self.rows
        if line == 0:
            last_line = None
            while rows:
                last_line = rows[-1][1]
                if rows[-1][0] != address:
                    break
                rows.pop()
            if last_line is None or last_line == 0:
                return
        rows.append((address, line, is_stmt))


class UnitLines:
    """GDB's per-file line tables of one compilation unit (steps 1 and 2)."""

    def __init__(self, main_file: int | None):
        self.subfiles: dict[int, _Subfile] = {}
        self.main_file = main_file

    def _subfile(self, file: int) -> _Subfile:
        if file not in self.subfiles:
            self.subfiles[file] = _Subfile(len(self.subfiles))
        return self.subfiles[file]

    def add_rows(self, rows, start: int, stop: int, skip_sequence_at_zero: bool) -> None:
        """Replay raw rows[start:stop] through GDB's line state machine."""
        last_file = last_line = last_address = last_subfile = None
        stmt_at_address = recording = True
        for address, file, line, is_stmt, end, discriminated in rows.entries[start:stop]:
            if last_file is None and skip_sequence_at_zero and address == 0:
                recording = False  # a sequence of a function the linker dropped
            file_changed = file != last_file
            ignore = (not end and line == 0) or (
                file_changed
                and not end
                and last_address == address
                and not is_stmt
                and stmt_at_address
            )
            if recording and ((file_changed and not ignore) or end) and last_file is not None:
                last_subfile.record(address, 0, True)
            if not end and not ignore and (file_changed or line != last_line or not discriminated):
                if recording:
                    if file_changed:
                        last_subfile = self._subfile(file)
                    # Not a line-0 marker (those are ignored here): record is an append.
                    last_subfile.rows.append((address, line, is_stmt))
                last_file, last_line = file, line
            if last_address != address:
                stmt_at_address, last_address = False, address
            stmt_at_address = stmt_at_address or is_stmt
            if end:
                last_file = last_line = last_address = None
                stmt_at_address = recording = True

    def ordered_subfiles(self) -> list[tuple[int, list[_Entry]]]:
        """Subfiles in GDB's search order (main file first), each sorted (step 2)."""
        return [(file, [_Entry(*row) for row in rows]) for file, rows in self.ordered_rows()]

    def ordered_rows(self) -> list[tuple[int, list[tuple[int, int, bool]]]]:
        """ordered_subfiles with rows as (address, line, is_stmt) tuples."""
        order = sorted(
            self.subfiles.items(),
            key=lambda item: (item[0] != self.main_file, item[1].order),
        )
        return [(file, _sorted_markers_first(sub.rows)) for file, sub in order]


def _sorted_markers_first(rows: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Rows stably sorted by address, line-0 markers first at one address.

    Markers are moved ahead before a stable sort on the address alone: the same order
    as a (address, is not a marker) key, without a Python call per row.
    """
    markers = [row for row in rows if not row[1]]
    return sorted(markers + [row for row in rows if row[1]], key=itemgetter(0))


def resolve_steps(unit: UnitLines) -> list[tuple[int, int, int, int, int]]:
    """Step 3: (start address, file, line, entry address, is_stmt) wherever the answer
    may change.

    `file` is NO_FILE where GDB finds no line. The entry address and is_stmt are
    those of the winning row (GDB's sal.pc and sal.is_stmt): `bt` omits a frame's
    pc only when it is exactly there, at a statement.

    GDB asks every subfile for its latest row at or before the address; here each
    subfile's answer changes only at its own addresses, so the addresses of all
    subfiles are swept once, in order, updating the answers that change:
    1. per subfile, the row it answers with from each of its addresses on;
    2. at an address, the first subfile (in search order) that now answers with a
       line wins, since no other row can be later;
    3. where none does, the previous winner stands unless its own answer became a
       line-0 marker; only then are all subfiles compared.
    """
    subfiles = unit.ordered_rows()
    changes = []
    for n, (_, rows) in enumerate(subfiles):
        changes += _answers(rows, n)
    # By address, then subfile: each subfile answers once per address and they were
    # appended in subfile order, so a stable sort on the address alone does it
    # without comparing tuples (half the time).
    changes.sort(key=itemgetter(0))
    if not changes:
        return []
    changes.append((None, 0, None))  # flushes the last address
    answers: list[tuple | None] = [None] * len(subfiles)
    steps, best, updated, current = [], None, None, changes[0][0]
    for address, n, row in changes:
        if address != current:
            if updated is not None:
                best = updated
            elif best is not None and not answers[best][1]:
                best = _latest(answers)
            if best is None:
                steps.append((current, NO_FILE, 0, 0, 0))
            else:
                won = answers[best]
                steps.append((current, subfiles[best][0], won[1], won[0], int(won[2])))
            if address is None:
                break
            current, updated = address, None
        answers[n] = row
        if updated is None and row[1]:
            updated = n
    return steps


def _answers(rows: list[tuple[int, int, bool]], n: int) -> list[tuple[int, int, tuple]]:
    """(address, n, the row answering from it on) at each address of sorted subfile n.

    That is the address's last row, unless it is not a statement and an earlier row
    there with a line is: a non-statement row yields to a statement row at the same
    address. Line-0 markers sort first at an address, so the latest statement row
    with a line is the one a backward search from the last row would stop at.
    """
    found: list = []
    address = statement = None
    for row in rows:
        if row[0] != address:
            address, statement = row[0], None
            found.append(None)
        if row[2] and row[1]:
            statement = row
        found[-1] = (address, n, row if row[2] or statement is None else statement)
    return found


def _latest(answers: list[tuple | None]) -> int | None:
    """The subfile whose answer is the latest row with a line; the first of equals."""
    best = None
    for n, row in enumerate(answers):
        if row is not None and row[1] and (best is None or row[0] > answers[best][0]):
            best = n
    return best


def bfd_steps(rows, start: int, stop: int, paths: dict[int, int]) -> list[tuple[int, int, int]]:
    """One sequence's rows the way binutils (addr2line) reads them: of several rows at
    one address only the last counts (bfd/dwarf2.c add_line_info, PR ld/4986), is_stmt
    is ignored, and files carry their full path."""
    steps: list[tuple[int, int, int, int, int]] = []
    last = None  # the address of steps[-1]
    for address, file, line, _, end, _ in rows.entries[start:stop]:
        if end:
            # A row at the sequence's end address covers nothing.
            if last == address:
                steps.pop()
            steps.append((address, NO_FILE, 0, 0, 0))
        elif last == address:
            steps[-1] = (address, paths.get(file, file), line, address, 1)
        else:
            steps.append((address, paths.get(file, file), line, address, 1))
        last = address
    return steps


class LineTable:
    COLUMNS = ("starts", "files", "lines", "entries", "stmts")

    def __init__(self, starts, files, lines, entries, stmts):
        self._starts, self._files, self._lines = starts, files, lines
        self._entries, self._stmts = entries, stmts

    @classmethod
    def build(cls, steps: list[tuple[int, int, int, int, int]]) -> LineTable:
        steps.sort(key=itemgetter(0))
        merged: list[tuple] = []
        last = (None, None, None, None, None)
        for step in steps:
            if last[0] == step[0]:
                # Where one unit's range ends and the next begins, the line wins.
                if step[1] != NO_FILE:
                    merged[-1] = last = step
            elif (
                last[1] != step[1] or last[2] != step[2] or last[3] != step[3] or last[4] != step[4]
            ):
                merged.append(step)
                last = step
        columns = [list(map(itemgetter(n), merged)) for n in range(5)]  # in C
        for name, column in zip(cls.COLUMNS, columns, strict=True):
            _check_u32(name, column)
        return cls(*columns)

    def lookup(self, address: int) -> tuple[int, int] | None:
        """(file id, line) for an address, or None where there is no line."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0 or self._files[index] == NO_FILE:
            return None
        return self._files[index], self._lines[index]

    def entry(self, address: int) -> tuple[int, bool] | None:
        """Where the line-table row answering for this address starts, and whether it
        is a statement (GDB's sal.pc and sal.is_stmt)."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0 or self._files[index] == NO_FILE:
            return None
        return self._entries[index], bool(self._stmts[index])

    def __len__(self) -> int:
        return len(self._starts)

    def sections(self, prefix: str) -> dict[str, bytes]:
        columns = (self._starts, self._files, self._lines, self._entries, self._stmts)
        return {f"{prefix}.{n}": u32_array(c) for n, c in zip(self.COLUMNS, columns, strict=True)}

    @classmethod
    def from_sections(cls, sections, prefix: str) -> LineTable:
        return cls(*(as_u32_array(sections[f"{prefix}.{n}"]) for n in cls.COLUMNS))


def _check_u32(name: str, column: list[int]) -> None:
    """The index stores each column as 32-bit numbers. A damaged line program can take
    the line below zero (DW_LNS_advance_line) or the address past 32 bits."""
    if column and (min(column) < 0 or max(column) > 0xFFFFFFFF):
        value = min(column) if min(column) < 0 else max(column)
        raise DwarfError(f"malformed .debug_line: a row's {name} value {value} is outside 32 bits")

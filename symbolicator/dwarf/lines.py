"""Line number programs, DWARF 2 to 5 (DWARF 5 section 6.2), decoded in one pass.

The decoder appends one plain tuple per row to a caller-owned Rows rather than
building an object per row: a large firmware has hundreds of thousands of rows
and the index is built in Python.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from itertools import islice

from symbolicator.dwarf import constants as c
from symbolicator.dwarf import forms
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.leb128 import next_sleb, next_uleb, read_uleb

DW_LNS_COPY, DW_LNS_ADVANCE_PC, DW_LNS_ADVANCE_LINE, DW_LNS_SET_FILE = 1, 2, 3, 4
DW_LNS_SET_COLUMN = 5
DW_LNS_NEGATE_STMT, DW_LNS_CONST_ADD_PC, DW_LNS_FIXED_ADVANCE_PC = 6, 8, 9
DW_LNE_END_SEQUENCE, DW_LNE_SET_ADDRESS, DW_LNE_DEFINE_FILE, DW_LNE_SET_DISCRIMINATOR = 1, 2, 3, 4


@dataclass(frozen=True)
class FileEntry:
    name: str
    directory: str  # as the header names it (may be relative to the unit's comp_dir)


@dataclass
class LineHeader:
    version: int
    program_start: int
    end: int
    min_instruction_length: int
    default_is_stmt: bool
    line_base: int
    line_range: int
    opcode_base: int
    standard_lengths: bytes
    directories: list[str] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)

    @property
    def first_file_index(self) -> int:
        # File numbers start at 1 before DWARF 5 and at 0 from it; the line
        # table's own version decides, not the unit's (GCC mixes them).
        return 0 if self.version >= 5 else 1


# A decoded row is a plain tuple (address, file, line, is_stmt, end, discriminated):
# one tuple and one append per row is several times cheaper than an object or six
# parallel lists, and a large firmware has hundreds of thousands of rows. `end` marks
# the first address past a sequence; `discriminated` says whether the row's line ever
# had a non-zero discriminator (GDB coalesces repeated rows of such lines, gdb/dwarf2
# line reader, PR 17276).
Row = tuple[int, int, int, bool, bool, bool]


@dataclass
class Rows:
    """Decoded rows, and where each sequence stops (the index just past its end row)."""

    entries: list[Row] = field(default_factory=list)
    sequence_stops: list[int] = field(default_factory=list)

    def add(
        self, address: int, file: int, line: int, *, is_stmt=True, end=False, discriminated=False
    ) -> None:
        """Append one row (decode appends directly; this is for hand-built rows)."""
        self.entries.append((address, file, line, is_stmt, end, discriminated))
        if end:
            self.sequence_stops.append(len(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def sequences(self):
        """[start, stop) of each sequence: up to and including its end row."""
        start = 0
        for stop in self.sequence_stops:
            yield start, stop
            start = stop


def parse_header(sections: DwarfSections, offset: int, comp_dir: str, cu_name: str) -> LineHeader:
    data = sections.line
    length, version = struct.unpack_from("<IH", data, offset)
    if length >= 0xFFFFFFF0:
        raise DwarfError(f"64-bit line table at offset {offset} is not supported")
    end, pos = offset + 4 + length, offset + 6
    if version >= 5:
        pos += 2  # address_size, segment_selector_size
    header_length, pos = struct.unpack_from("<I", data, pos)[0], pos + 4
    program_start = pos + header_length
    min_length = data[pos]
    pos += 2 if version >= 4 else 1  # maximum_operations_per_instruction from v4
    default_is_stmt, line_base, line_range, opcode_base = struct.unpack_from("<BbBB", data, pos)
    pos += 4
    header = LineHeader(
        version,
        program_start,
        end,
        min_length,
        bool(default_is_stmt),
        line_base,
        line_range,
        opcode_base,
        bytes(data[pos : pos + opcode_base - 1]),
    )
    pos += opcode_base - 1
    if version >= 5:
        _entries_v5(sections, header, pos)
    else:
        _entries_v4(data, header, pos, comp_dir, cu_name)
    return header


def _entries_v4(data: bytes, header: LineHeader, pos: int, comp_dir: str, cu_name: str) -> None:
    header.directories.append(comp_dir)  # index 0: the unit's compilation directory
    while data[pos]:
        end = data.index(b"\x00", pos)
        header.directories.append(data[pos:end].decode("utf-8", errors="replace"))
        pos = end + 1
    pos += 1
    while data[pos]:
        end = data.index(b"\x00", pos)
        name = data[pos:end].decode("utf-8", errors="replace")
        directory, pos = read_uleb(data, end + 1)
        _, pos = read_uleb(data, pos)  # modification time
        _, pos = read_uleb(data, pos)  # length
        header.files.append(FileEntry(name, _directory(header, directory)))


def _directory(header: LineHeader, index: int) -> str:
    return header.directories[index] if index < len(header.directories) else ""


def _entries_v5(sections: DwarfSections, header: LineHeader, pos: int) -> None:
    directories, pos = _entry_table(sections, pos)
    header.directories.extend(_content(entry, c.LNCT_PATH, "", str) for entry in directories)
    files, pos = _entry_table(sections, pos)
    for entry in files:
        directory = _directory(header, _content(entry, c.LNCT_DIRECTORY_INDEX, 0, int))
        header.files.append(FileEntry(_content(entry, c.LNCT_PATH, "", str), directory))


def _content(entry: dict, content: int, default, kind: type):
    """An entry's field, in the form the table's entry format gives it: DW_LNCT_path
    takes a string form, DW_LNCT_directory_index a constant (DWARF 5 6.2.4.1)."""
    value = entry.get(content, default)
    if not isinstance(value, kind):
        raise DwarfError(
            f"malformed .debug_line: content type 0x{content:x} of a file entry has a form "
            f"that gives {type(value).__name__}, not {kind.__name__}"
        )
    return value


def _entry_table(sections: DwarfSections, pos: int) -> tuple[list[dict], int]:
    data = sections.line
    format_count = data[pos]
    pos += 1
    formats = []
    for _ in range(format_count):
        content, pos = read_uleb(data, pos)
        form, pos = read_uleb(data, pos)
        formats.append((content, form))
    count, pos = read_uleb(data, pos)
    entries = []
    for _ in range(count):
        entry = {}
        for content, form in formats:
            value, pos = forms.read(form, data, pos, 4, 5)
            entry[content] = _entry_value(sections, form, value)
        entries.append(entry)
    return entries, pos


def _entry_value(sections: DwarfSections, form: int, value):
    if form == c.FORM_LINE_STRP:
        return sections.string_at(value, line_str=True)
    if form == c.FORM_STRP:
        return sections.string_at(value)
    return value


def decode(sections: DwarfSections, header: LineHeader, rows: Rows, file_ids: list[int]) -> None:  # noqa: C901 (one hot loop: a call per opcode would double the decode time)
    """Run the line program, appending rows whose file numbers map through `file_ids`.

    `file_ids[n - header.first_file_index]` is the caller's id for file n (-1 if none).
    Opcodes are tested in order of how often GCC emits them (special opcodes and
    set_column, then negate_stmt, copy, advance_line, set_file). The program is
    read through one byte iterator, operands included: a for loop over it costs
    less per opcode than indexing the section and keeping a position.
    """
    program = iter(sections.line[header.program_start : header.end])
    base, line_base, line_range = header.opcode_base, header.line_base, header.line_range
    step = header.min_instruction_length
    special = _special_opcodes(base, line_base, line_range, step)
    const_add_pc = special[-1][0]
    ids = _file_numbers(header, file_ids)
    address, file, line, is_stmt = 0, ids.get(1, -1), 1, header.default_is_stmt
    discriminator, discriminated = 0, False
    out, stops = rows.entries.append, rows.sequence_stops.append

    for opcode in program:
        if opcode >= base:
            advance, delta = special[opcode]
            address += advance
            if delta:
                line += delta
                discriminated = discriminator != 0
            out((address, file, line, is_stmt, False, discriminated))
            discriminator = 0
        elif opcode == DW_LNS_SET_COLUMN:  # columns are not indexed: skip the ULEB128
            while next(program) >= 0x80:
                pass
        elif opcode == DW_LNS_NEGATE_STMT:
            is_stmt = not is_stmt
        elif opcode == DW_LNS_COPY:
            out((address, file, line, is_stmt, False, discriminated))
            discriminator = 0
        elif opcode == DW_LNS_ADVANCE_LINE:
            delta = next_sleb(program)
            line += delta
            if delta:
                discriminated = discriminator != 0
        elif opcode == DW_LNS_SET_FILE:
            file = ids.get(next_uleb(program), -1)
        elif opcode == DW_LNS_ADVANCE_PC:
            address += next_uleb(program) * step
        elif opcode == DW_LNS_CONST_ADD_PC:
            address += const_add_pc
        elif opcode == DW_LNS_FIXED_ADVANCE_PC:
            address += next(program) | next(program) << 8
        elif opcode == 0:
            operands = bytes(islice(program, next_uleb(program)))
            sub = operands[0] if operands else None
            if sub == DW_LNE_END_SEQUENCE:
                out((address, file, 0, False, True, False))
                stops(len(rows.entries))
                address, file, line, is_stmt = 0, ids.get(1, -1), 1, header.default_is_stmt
                discriminator, discriminated = 0, False
            elif sub == DW_LNE_SET_ADDRESS:
                address = int.from_bytes(operands[1:], "little")
            elif sub == DW_LNE_SET_DISCRIMINATOR:
                discriminator, _ = read_uleb(operands, 1)
                discriminated = discriminated or discriminator != 0
        else:  # basic_block, prologue/epilogue, isa, vendor ops: skip operands
            for _ in range(header.standard_lengths[opcode - 1]):
                next_uleb(program)


@functools.lru_cache(maxsize=64)
def _special_opcodes(base: int, line_base: int, line_range: int, step: int) -> tuple:
    """(address advance, line advance) of each special opcode (DWARF 5 6.2.5.1), by
    opcode (the entries below opcode_base are never read); worked out once for all the
    units that share a header's parameters."""
    return tuple(
        (a // line_range * step, line_base + a % line_range) if line_range else (0, 0)
        for a in range(-base, 256 - base)
    )


def _file_numbers(header: LineHeader, file_ids: list[int]) -> dict[int, int]:
    """File number -> the caller's id; numbers the header does not list are absent."""
    first = header.first_file_index
    return {index + first: file_id for index, file_id in enumerate(file_ids)}

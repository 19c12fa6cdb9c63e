"""Damaged .debug_info, byte by byte: the DIE walkers end, and what they cannot decode
is a DwarfError that names it (DWARF 5 sections 7.5.1-7.5.3; issue 12's fuzzing)."""

import struct

import pytest

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import DieReader
from symbolicator.dwarf.forms import DwarfError
from symbolicator.dwarf.info import iter_units, walk
from symbolicator.dwarf.lines import parse_header
from symbolicator.dwarf.loclists import location_list
from symbolicator.dwarf.ranges import die_ranges, range_list
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.index.dwarf_scan import DESCEND, WANTED
from tests.fuzzing import bounded

TAG_STRUCTURE_TYPE, TAG_BASE_TYPE = 0x13, 0x24

# Abbreviations: 1 a compile unit with a name and children; 2 a structure with children
# and a DW_AT_sibling (ref4) to jump over them; 3 a base type with no attributes.
ABBREV = b"".join(
    bytes(declaration)
    for declaration in (
        [1, c.TAG_COMPILE_UNIT, 1, c.AT_NAME, c.FORM_STRING, 0, 0],
        [2, TAG_STRUCTURE_TYPE, 1, c.AT_SIBLING, c.FORM_REF4, 0, 0],
        [3, TAG_BASE_TYPE, 0, 0, 0],
        [0],
    )
)
STRUCT_AT = 11 + 5  # after the DWARF 4 unit header and the unit DIE (code, "a.c\0")


def unit(sibling: int, *, struct_code: int = 2) -> DwarfSections:
    """One DWARF 4 unit: the unit DIE, a structure whose DW_AT_sibling is `sibling`
    (unit-relative) holding one base type, then a base type after it."""
    dies = bytes([struct_code]) + struct.pack("<I", sibling)
    dies += b"\x03\x00" + b"\x03\x00"  # its child, the end of its children; the sibling; end
    return sections_with(dies)


def sections_with(dies: bytes, abbrev: bytes = ABBREV) -> DwarfSections:
    """A DWARF 4 unit (section 7.5.1.1) whose unit DIE, named a.c, holds `dies`."""
    body = struct.pack("<HIB", 4, 0, 4) + b"\x01a.c\x00" + dies
    return DwarfSections(info=struct.pack("<I", len(body)) + body, abbrev=abbrev)


def walked(sections: DwarfSections) -> list:
    (found,) = iter_units(sections)
    with bounded(5, 256 << 20):  # before the fix: a loop that never ended
        return list(walk(found, WANTED | {TAG_BASE_TYPE}, DESCEND))


def test_the_walker_jumps_over_a_subtree_to_its_sibling():
    after = STRUCT_AT + 1 + 4 + 2
    assert [die.offset for die in walked(unit(after))] == [after]


@pytest.mark.parametrize("sibling", [STRUCT_AT, 0, 0xFFFF], ids=["itself", "back", "past the end"])
def test_the_walker_does_not_follow_a_sibling_that_points_back_or_out_of_the_unit(sibling):
    """Found by fuzzing: a DW_AT_sibling pointing back sent the index build into a loop
    that never ended while its memory grew. Like GDB, the walker enters the children
    instead, so it finds both base types."""
    assert [die.offset for die in walked(unit(sibling))] == [STRUCT_AT + 5, STRUCT_AT + 7]


@pytest.mark.parametrize("sibling", [STRUCT_AT, 0xFFFF], ids=["itself", "past the end"])
def test_the_lazy_reader_does_not_follow_a_bad_sibling_either(sibling):
    reader = DieReader(unit(sibling))
    with bounded(5, 256 << 20):
        found = reader.top_level(0, TAG_BASE_TYPE)
    assert [die.offset for die in found] == [STRUCT_AT + 7]


def test_an_abbreviation_code_the_table_lacks_is_a_dwarf_error_naming_the_die():
    """Found by fuzzing: KeyError escaped from the walker's table of steps."""
    with pytest.raises(DwarfError, match="DIE at offset 0x10 uses abbreviation code 9"):
        walked(unit(0, struct_code=9))


def test_the_lazy_reader_reports_an_unknown_code_as_a_dwarf_error():
    with pytest.raises(DwarfError, match="abbreviation code 9 is not declared"):
        DieReader(unit(0, struct_code=9)).top_level(0, TAG_BASE_TYPE)


def test_a_unit_cut_short_is_a_dwarf_error_of_that_unit_when_read_lazily():
    sections = unit(0)
    cut = DwarfSections(info=sections.info[:-3], abbrev=sections.abbrev)
    with pytest.raises(DwarfError, match=r"malformed \.debug_info in the unit at offset 0x0"):
        DieReader(cut).die(STRUCT_AT + 7)


def test_a_string_offset_past_the_string_section_is_a_dwarf_error():
    """Found by fuzzing: ValueError from bytes.index escaped while reading a name."""
    with pytest.raises(DwarfError, match=r"no string at offset 7 of \.debug_str \(4 bytes\)"):
        DwarfSections(str=b"abc\x00").string_at(7)


def test_an_address_in_a_string_form_is_a_dwarf_error():
    """Found by fuzzing: a damaged abbreviation gave DW_AT_low_pc a string form, and
    TypeError escaped from the address arithmetic."""
    subprogram = [4, c.TAG_SUBPROGRAM, 0, c.AT_LOW_PC, c.FORM_STRING, c.AT_HIGH_PC, c.FORM_DATA4]
    abbrev = ABBREV[:-1] + bytes([*subprogram, 0, 0, 0])
    (found,) = iter_units(sections_with(b"\x04main\x00" + struct.pack("<I", 8) + b"\x00", abbrev))
    (die,) = walk(found, WANTED, DESCEND)
    with pytest.raises(DwarfError, match="an attribute that needs a number has form 0x8"):
        die_ranges(found, die.attributes)


def test_a_range_list_offset_in_a_block_form_is_a_dwarf_error():
    with pytest.raises(DwarfError, match="DW_AT_ranges has form 0xa"):
        range_list(next(iter_units(unit(0))), c.FORM_BLOCK1, b"\x00")


def line_table_v5(file_formats: list[tuple[int, int]], file_entry: bytes) -> DwarfSections:
    """A DWARF 5 line table header (section 6.2.4) with one directory and one file."""
    after_length = struct.pack("<HBB", 5, 4, 0)
    fields = struct.pack("<BBBbBB", 2, 1, 1, -5, 14, 13) + bytes(
        [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]
    )
    fields += bytes([1, c.LNCT_PATH, c.FORM_STRING, 1]) + b"/src\x00"
    fields += bytes([len(file_formats)]) + bytes(b for pair in file_formats for b in pair)
    fields += b"\x01" + file_entry
    body = after_length + struct.pack("<I", len(fields)) + fields
    return DwarfSections(line=struct.pack("<I", len(body)) + body)


def test_a_line_table_file_entry_reads_its_path_and_directory():
    sections = line_table_v5(
        [(c.LNCT_PATH, c.FORM_STRING), (c.LNCT_DIRECTORY_INDEX, c.FORM_UDATA)], b"a.c\x00\x00"
    )
    (entry,) = parse_header(sections, 0, "", "").files
    assert (entry.name, entry.directory) == ("a.c", "/src")


def test_a_file_path_in_a_number_form_is_a_dwarf_error():
    """Found by fuzzing: an int where the path belongs reached os.path.join (TypeError)."""
    sections = line_table_v5([(c.LNCT_PATH, c.FORM_UDATA)], b"\x07")
    with pytest.raises(DwarfError, match=r"malformed \.debug_line: .* gives int, not str"):
        parse_header(sections, 0, "", "")


def test_a_location_list_cut_short_is_a_dwarf_error_for_the_pc_it_cannot_answer():
    """Found by fuzzing: the struct.error of a .debug_loc entry cut before its length
    was kept and raised again for every pc the list did not cover."""
    sections = unit(0)
    loc = struct.pack("<II", 0x100, 0x200)  # DWARF 4 2.6.2: begin, end, then a u16 length
    (found,) = iter_units(DwarfSections(info=sections.info, abbrev=sections.abbrev, loc=loc))
    locations = location_list(found, c.FORM_SEC_OFFSET, 0)
    with pytest.raises(DwarfError, match="malformed location list at offset 0"):
        locations.at(0x150)

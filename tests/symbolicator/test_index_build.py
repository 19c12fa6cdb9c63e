"""Building a symbol index from a corrupt ELF fails with a DwarfError that says so,
never with whatever the decoder tripped over (the worker records the message)."""

import io

import pytest
from elftools.elf.elffile import ELFFile

import symbolicator
from symbolicator.dwarf.forms import DwarfError
from symbolicator.errors import SymbolicatorError
from symbolicator.index.builder import _check_storable
from symbolicator.index.lines import LineTable
from tests.firmware_fixtures import elf_path


def corrupted(section: str, fill: int) -> bytes:
    """The an385-O0 ELF with 64 bytes a third of the way into `section` overwritten."""
    data = bytearray(elf_path().read_bytes())
    header = ELFFile(io.BytesIO(bytes(data))).get_section_by_name(section).header
    start = header["sh_offset"] + header["sh_size"] // 3
    data[start : start + 64] = bytes([fill]) * 64
    return bytes(data)


@pytest.mark.parametrize(("section", "fill"), [(".debug_abbrev", 0x00), (".debug_frame", 0x80)])
def test_a_corrupt_debug_section_is_a_symbolicator_error(section, fill):
    with pytest.raises(SymbolicatorError, match=r"malformed|not supported"):
        symbolicator.build_index(corrupted(section, fill))


def test_a_corrupt_unit_is_a_symbolicator_error_when_a_lookup_first_reads_it():
    """The build reads each unit's header and first DIE only (index/units.py); the rest
    of a unit is read, and found damaged, on the first lookup inside it."""
    index = symbolicator.build_index(corrupted(".debug_info", 0xFF))
    with pytest.raises(SymbolicatorError, match=r"malformed"):
        index.read_all_units()


def test_a_lookup_in_a_corrupt_unit_raises_the_same_error_each_time():
    index = symbolicator.build_index(corrupted(".debug_info", 0xFF))
    errors = []
    for _ in range(2):
        with pytest.raises(SymbolicatorError, match=r"malformed") as raised:
            index.read_all_units()
        errors.append(str(raised.value))
    assert errors[0] == errors[1]


def test_the_message_names_what_the_decoder_met():
    with pytest.raises(SymbolicatorError, match=r"malformed \.debug_info: .*abbreviation code 25"):
        symbolicator.build_index(corrupted(".debug_abbrev", 0x00))


def test_a_line_outside_32_bits_is_a_dwarf_error_not_an_index_that_cannot_be_stored():
    """Found by fuzzing (issue 12): DW_LNS_advance_line took a line below zero, and
    OverflowError escaped later from to_bytes."""
    with pytest.raises(DwarfError, match=r"malformed \.debug_line: a row's lines value -1 "):
        LineTable.build([(0x100, 1, -1, 0x100, 1)])
    with pytest.raises(DwarfError, match=r"a row's starts value 4294967296 "):
        LineTable.build([(1 << 32, 1, 1, 0x100, 1)])


def test_an_index_with_a_value_no_column_can_store_fails_at_build_not_when_stored():
    """A damaged ELF can give a value outside 32 bits (a call line in DW_FORM_sdata
    below zero, say): the build stores the index once to find out, so the worker
    records a DwarfError instead of an OverflowError escaping from to_bytes."""
    index = symbolicator.build_index(elf_path().read_bytes())
    index.symbols["sizes"][0] = -1
    with pytest.raises(DwarfError, match="does not fit the symbol index's 32-bit columns"):
        _check_storable(index)

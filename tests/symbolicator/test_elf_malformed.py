"""A damaged ELF is an ElfError that says what was being read, whichever property
reaches the damage first: pyelftools parses lazily, and its own errors never leave
symbolicator/elf.py (ELF gABI, "Sections"; issue 12's fuzzing)."""

import io
import struct

import pytest
from elftools.elf.elffile import ELFFile

import symbolicator
from symbolicator import ElfError, ElfImage
from tests.firmware_fixtures import elf_path

SHF_COMPRESSED = 0x800
E_SHOFF = 32  # in the Elf32_Ehdr
# Elf32_Shdr field offsets
SH_FLAGS, SH_OFFSET, SH_SIZE = 8, 16, 20


def patched(section: str, field: int, value: int) -> bytes:
    """The an385-O0 ELF with one u32 field of a section's header replaced."""
    data = bytearray(elf_path().read_bytes())
    elf = ELFFile(io.BytesIO(bytes(data)))
    number = next(n for n, s in enumerate(elf.iter_sections()) if s.name == section)
    at = elf.header["e_shoff"] + number * elf.header["e_shentsize"] + field
    struct.pack_into("<I", data, at, value)
    return bytes(data)


def with_shoff(value: int) -> bytes:
    data = bytearray(elf_path().read_bytes())
    struct.pack_into("<I", data, E_SHOFF, value)
    return bytes(data)


def test_a_section_table_past_the_end_of_the_file_is_an_elf_error():
    """Found by fuzzing: pyelftools' ELFParseError escaped from has_dwarf."""
    elf = ElfImage(with_shoff(0xC0000000))
    assert elf.is_arm  # the ELF header itself is whole
    with pytest.raises(ElfError, match=r"malformed ELF: reading the section headers: .*past EOF"):
        _ = elf.has_dwarf
    with pytest.raises(ElfError, match=r"malformed ELF: reading .symtab: .*past EOF"):
        _ = elf.build_id
    with pytest.raises(ElfError, match=r"malformed ELF: reading the DWARF sections"):
        symbolicator.build_index(with_shoff(0xC0000000))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (SH_FLAGS, SHF_COMPRESSED, "Unknown compression type"),
        (SH_SIZE, 6781, "Expected section size to be a multiple of entry size"),
    ],
    ids=["unknown compression", "not whole entries"],
)
def test_a_damaged_symbol_table_is_an_elf_error(field, value, message):
    """Found by fuzzing: ELFCompressionError and ELFError escaped from .symtab."""
    with pytest.raises(ElfError, match=rf"malformed ELF: reading [^:]+: {message}"):
        symbolicator.build_index(patched(".symtab", field, value))


def test_a_symbol_table_cut_short_by_the_end_of_the_file_is_an_elf_error():
    """Found by fuzzing: struct.error escaped from unpacking a partial last entry."""
    data = patched(".symtab", SH_OFFSET, len(elf_path().read_bytes()) - 20)
    with pytest.raises(ElfError, match=r"\.symtab of 20 bytes is not a whole number of entries"):
        symbolicator.build_index(data)


def test_a_build_id_note_not_named_gnu_is_not_a_build_id():
    """Found by fuzzing: type 3 means NT_GNU_BUILD_ID only in a note named "GNU"; any
    other name left pyelftools' raw bytes where a hex string was expected (TypeError)."""
    data = bytearray(elf_path().read_bytes())
    at = data.index(
        b"GNU\x00", ElfImage(bytes(data)).elf.get_section_by_name(".note.gnu.build-id")["sh_offset"]
    )
    data[at : at + 4] = b"XYZ\x00"
    assert ElfImage(bytes(data)).gnu_build_id is None
    assert ElfImage(elf_path().read_bytes()).gnu_build_id is not None

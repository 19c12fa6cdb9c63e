"""Function, file, line and inline chain equal `arm-none-eabi-addr2line -f -i`, for the
addresses recorded in each fixture ELF's addr2line.json (1000 per ELF for the C builds,
up to 3000 for the C++ ones, whose names are also recorded as `-f -i -C` prints them).

One deliberate difference: the assembler's DWARF for .S files gives Thumb functions a
DW_AT_low_pc with bit 0 set, and binutils 2.40 takes that as the address, so its
ranges for those functions start and end one byte late. GDB clears the bit, and so
does dre. The test predicts exactly where binutils must then disagree.
"""

import json

import pytest
from elftools.elf.elffile import ELFFile

from symbolicator.addr2line import addr2line
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import index_for


def thumb_bit_boundaries(build: str) -> set[int]:
    """First and one-past-last byte of every subprogram whose DW_AT_low_pc is odd."""
    with open(FIXTURES / build / "firmware.elf", "rb") as handle:
        dwarf = ELFFile(handle).get_dwarf_info()
        boundaries = set()
        for unit in dwarf.iter_CUs():
            for die in unit.iter_DIEs():
                low = die.attributes.get("DW_AT_low_pc")
                high = die.attributes.get("DW_AT_high_pc")
                if die.tag == "DW_TAG_subprogram" and low and high and low.value & 1:
                    end = high.value if high.form == "DW_FORM_addr" else low.value + high.value
                    boundaries |= {low.value & ~1, end & ~1}
    return boundaries


ELFS = sorted(p.parent.name for p in FIXTURES.glob("*/addr2line.json"))


def mismatches(build: str, name_key: str, demangle: bool) -> list[int]:
    recorded = json.loads((FIXTURES / build / "addr2line.json").read_text())["addresses"]
    index = index_for(build)
    found = set()
    for item in recorded:
        if name_key not in item["frames"][0]:
            continue
        address = int(item["address"], 16)
        expected = [(f[name_key], f["file"], f["line"] or 0) for f in item["frames"]]
        if addr2line(index, address, demangle=demangle) != expected:
            found.add(address)
    assert len(recorded) >= 1000
    return sorted(found - thumb_bit_boundaries(build))


@pytest.mark.parametrize("build", ELFS)
def test_every_recorded_address_matches_addr2line(build):
    assert mismatches(build, "function", demangle=False) == []


@pytest.mark.parametrize("build", [b for b in ELFS if b.startswith(("cxx-", "clang-"))])
def test_every_recorded_address_matches_addr2line_demangling(build):
    assert mismatches(build, "demangled", demangle=True) == []

"""Memfault coredump parsing (memfault-formats.md section 1)."""

import struct

import pytest

from symbolicator import CoredumpFormatError, parse_coredump
from tests.builders import block, memfault_coredump, minimal_coredump, registers_block


def test_it_reads_registers_versions_and_memory_of_a_v2_coredump():
    coredump = parse_coredump(minimal_coredump(pc=0x1234, lr=0x5679))

    assert coredump.format == "memfault-v2"
    assert coredump.registers["pc"] == 0x1234
    assert coredump.registers["lr"] == 0x5679
    assert coredump.registers["msp"] == 0x20000100
    assert coredump.build_id == bytes(range(20))
    assert (coredump.software_type, coredump.software_version) == ("main", "1.0.0")
    assert coredump.hardware_version == "evt"
    assert coredump.machine == 40
    assert coredump.trace_reason == 0x9400
    assert [(r.address, r.data) for r in coredump.regions] == [(0x20000100, b"\xaa" * 16)]
    assert not coredump.truncated


def test_it_reads_the_84_byte_register_block_of_memfault_gdb_py():
    words = list(range(21))
    coredump = parse_coredump(memfault_coredump(block(0, struct.pack("<21I", *words)), version=1))

    assert coredump.format == "memfault-v1"
    assert coredump.registers["pc"] == 15
    assert coredump.registers["primask"] == 19
    assert coredump.registers["control"] == 20


def test_it_rejects_a_register_block_of_another_size():
    with pytest.raises(CoredumpFormatError, match="76 or 84 bytes"):
        parse_coredump(memfault_coredump(block(0, b"\x00" * 40)))


def test_it_skips_padding_blocks_and_does_not_depend_on_block_order():
    data = memfault_coredump(
        block(10, b"2.0.0-rc.1"),
        block(6, b"\x00\x00"),
        block(1, b"\x01\x02\x03\x04", address=0x20000000),
        registers_block(pc=0x400),
    )
    coredump = parse_coredump(data)

    assert coredump.software_version == "2.0.0-rc.1"
    assert coredump.registers["pc"] == 0x400
    assert len(coredump.regions) == 1


def test_it_keeps_the_crashing_cpu_first_when_there_are_several_register_blocks():
    data = memfault_coredump(registers_block(pc=0x100), registers_block(pc=0x200))
    coredump = parse_coredump(data)

    assert coredump.registers["pc"] == 0x100
    assert [cpu["pc"] for cpu in coredump.other_cpus] == [0x200]


def test_it_reports_the_truncation_flag_of_the_footer():
    coredump = parse_coredump(memfault_coredump(registers_block(), footer_flags=1))

    assert coredump.truncated
    assert "ran out of coredump storage" in coredump.warnings[0]


def test_it_uses_the_whole_blocks_of_a_coredump_cut_short_in_transit():
    whole = memfault_coredump(registers_block(pc=0x100), block(1, b"\x55" * 64, 0x20000000))
    coredump = parse_coredump(whole[:-40])

    assert coredump.truncated
    assert coredump.registers["pc"] == 0x100
    assert coredump.regions == []
    assert any("runs past the end" in w for w in coredump.warnings)


def test_it_rejects_a_coredump_without_registers():
    with pytest.raises(CoredumpFormatError, match="no register block"):
        parse_coredump(memfault_coredump(block(10, b"1.0")))


def test_it_rejects_a_broken_footer():
    data = bytearray(minimal_coredump())
    data[-16:-12] = b"JUNK"
    with pytest.raises(CoredumpFormatError, match="footer magic"):
        parse_coredump(bytes(data))


@pytest.mark.parametrize("total_size", [12, 27])
def test_it_rejects_a_v2_total_size_with_no_room_for_the_footer(total_size):
    """Found by fuzzing (issue 12): the footer was read at a negative offset."""
    data = b"CORE" + struct.pack("<II", 2, total_size)
    with pytest.raises(CoredumpFormatError, match=f"total size of {total_size}, too small"):
        parse_coredump(data)


def test_it_rejects_unknown_formats_and_versions():
    with pytest.raises(CoredumpFormatError, match="unrecognized coredump format"):
        parse_coredump(b"\x7fELF" + b"\x00" * 40)
    with pytest.raises(CoredumpFormatError, match="version 3"):
        parse_coredump(struct.pack("<4sII", b"CORE", 3, 12))


def test_it_warns_about_unknown_block_types_instead_of_failing():
    coredump = parse_coredump(memfault_coredump(registers_block(), block(99, b"??")))

    assert coredump.warnings == ["unknown block type 99 (2 bytes) ignored"]


def test_it_takes_the_legacy_firmware_version_block_when_there_is_no_software_version():
    coredump = parse_coredump(memfault_coredump(registers_block(), block(3, b"0.9.1"), version=1))

    assert coredump.software_version == "0.9.1"


def test_it_decodes_the_mpu_block_up_to_the_implemented_regions():
    mpu = struct.pack("<II", 2 << 8, 1) + struct.pack("<4I", 0x11, 0x12, 0x21, 0x22) + bytes(16)
    coredump = parse_coredump(memfault_coredump(registers_block(), block(9, mpu, 0x20001000)))

    assert coredump.extra["mpu"]["regions"] == [
        {"rbar": 0x11, "rasr": 0x12},
        {"rbar": 0x21, "rasr": 0x22},
    ]

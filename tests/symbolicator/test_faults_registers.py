"""Reading the fault status registers from whatever SCB window the device captured."""

import struct

from symbolicator.faults.registers import read_fault_registers
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span

# SHCSR, CFSR, HFSR, DFSR, MMFAR, BFAR, AFSR of a MemManage fault writing 0xC.
SDK_WORDS = (0x00070001, 0x00000082, 0, 0, 0x0000000C, 0, 0)


def memory(*spans):
    return Memory([Span(address, data, SOURCE_COREDUMP) for address, data in spans])


def sdk_window(words=SDK_WORDS):
    # The Memfault SDK's fault register region: 0xE000ED24, 28 bytes (memfault-formats.md 1.5).
    return (0xE000ED24, struct.pack("<7I", *words))


def test_it_reads_the_sdk_fault_register_region():
    registers = read_fault_registers(memory(sdk_window()))

    assert registers.values == {
        "SHCSR": 0x00070001,
        "CFSR": 0x82,
        "HFSR": 0,
        "DFSR": 0,
        "MMFAR": 0xC,
        "BFAR": 0,
        "AFSR": 0,
    }
    assert registers.captured


def test_it_reads_the_gdb_scripts_whole_scb_window():
    # memfault_gdb.py captures 0xE000ED00-0xE000ED8F, ICSR included.
    scb = bytearray(0x90)
    struct.pack_into("<I", scb, 0x04, 0x0400F804)  # ICSR
    struct.pack_into("<7I", scb, 0x24, *SDK_WORDS)

    registers = read_fault_registers(memory((0xE000ED00, bytes(scb))))

    assert registers.get("ICSR") == 0x0400F804
    assert registers.get("CFSR") == 0x82
    assert registers.get("SFSR") is None  # 0xE000EDE4 is outside that window


def test_it_stitches_a_register_split_across_two_regions():
    data = struct.pack("<I", 0x82)
    registers = read_fault_registers(memory((0xE000ED28, data[:2]), (0xE000ED2A, data[2:])))

    assert registers.get("CFSR") == 0x82


def test_a_partly_captured_register_is_absent_not_guessed():
    registers = read_fault_registers(memory((0xE000ED24, b"\x01\x00\x07\x00\x82\x00")))

    assert registers.values == {"SHCSR": 0x00070001}


def test_a_coredump_without_fault_registers_reads_as_not_captured():
    # ARMv6-M has no CFSR/HFSR; or the firmware did not collect them.
    registers = read_fault_registers(memory((0x20000000, b"\x00" * 64)))

    assert registers.values == {}
    assert not registers.captured
    assert registers.value("CFSR") == 0


def test_icsr_alone_does_not_count_as_fault_registers():
    registers = read_fault_registers(memory((0xE000ED04, struct.pack("<I", 0x804))))

    assert not registers.captured


def test_mmfar_is_the_fault_address_only_with_mmarvalid():
    # B3.2.17: MMFAR is valid only when CFSR.MMARVALID (bit 7) is set.
    valid = read_fault_registers(memory(sdk_window()))
    stale = read_fault_registers(memory(sdk_window((0x70001, 0x02, 0, 0, 0xC, 0, 0))))

    assert valid.address("MMFAR") == 0xC
    assert stale.address("MMFAR") is None


def test_bfar_is_the_fault_address_only_with_bfarvalid():
    # B3.2.18: BFARVALID is CFSR bit 15.
    valid = read_fault_registers(memory(sdk_window((0x70002, 0x8200, 0, 0, 0, 0x40000000, 0))))
    stale = read_fault_registers(memory(sdk_window((0x70002, 0x0200, 0, 0, 0, 0x40000000, 0))))

    assert valid.address("BFAR") == 0x40000000
    assert stale.address("BFAR") is None


def test_sfar_is_the_fault_address_only_with_sfarvalid():
    # Armv8-M SAU_SFSR.SFARVALID is bit 6; SFSR at 0xE000EDE4, SFAR at 0xE000EDE8.
    valid = read_fault_registers(memory((0xE000EDE4, struct.pack("<2I", 0x48, 0x10000000))))
    stale = read_fault_registers(memory((0xE000EDE4, struct.pack("<2I", 0x08, 0x10000000))))

    assert valid.address("SFAR") == 0x10000000
    assert stale.address("SFAR") is None

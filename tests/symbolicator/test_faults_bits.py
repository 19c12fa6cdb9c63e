"""Bit tables of the fault status registers, checked byte by byte against the spec.

ARMv7-M ARM (DDI 0403E): B3.2.4 ICSR, B3.2.13 SHCSR, B3.2.15 CFSR, B3.2.16 HFSR,
B3.2.19 AFSR, C1.6.1 DFSR. Armv8-M ARM: CFSR.STKOF, SHCSR's v8-M bits, SAU_SFSR.
Names are CMSIS's (SCB_CFSR_*_Pos and friends).
"""

import struct

import pytest

from symbolicator.faults.bits import TABLES, BitKind, decode_register


def names(register, value):
    return [bit.name for bit in decode_register(register, value)]


def word(data: bytes) -> int:
    return struct.unpack("<I", data)[0]


# B3.2.15: MMFSR is the byte at 0xE000ED28, BFSR the byte at 0xE000ED29, UFSR the
# halfword at 0xE000ED2A; CFSR bit numbers count across all three.
CFSR_BITS = [
    (0, "IACCVIOL", "MMFSR"),
    (1, "DACCVIOL", "MMFSR"),
    (3, "MUNSTKERR", "MMFSR"),
    (4, "MSTKERR", "MMFSR"),
    (5, "MLSPERR", "MMFSR"),
    (7, "MMARVALID", "MMFSR"),
    (8, "IBUSERR", "BFSR"),
    (9, "PRECISERR", "BFSR"),
    (10, "IMPRECISERR", "BFSR"),
    (11, "UNSTKERR", "BFSR"),
    (12, "STKERR", "BFSR"),
    (13, "LSPERR", "BFSR"),
    (15, "BFARVALID", "BFSR"),
    (16, "UNDEFINSTR", "UFSR"),
    (17, "INVSTATE", "UFSR"),
    (18, "INVPC", "UFSR"),
    (19, "NOCP", "UFSR"),
    (20, "STKOF", "UFSR"),  # Armv8-M only
    (24, "UNALIGNED", "UFSR"),
    (25, "DIVBYZERO", "UFSR"),
]


@pytest.mark.parametrize(("bit", "name", "group"), CFSR_BITS)
def test_it_names_each_cfsr_bit_and_its_sub_register(bit, name, group):
    (decoded,) = decode_register("CFSR", 1 << bit)

    assert (decoded.name, decoded.group, decoded.bit) == (name, group, bit)


def test_it_reads_mmfsr_from_the_first_byte_of_cfsr():
    # DACCVIOL | MMARVALID, as the MemManage fixtures capture it.
    assert names("CFSR", word(b"\x82\x00\x00\x00")) == ["DACCVIOL", "MMARVALID"]


def test_it_reads_bfsr_from_the_second_byte_of_cfsr():
    assert names("CFSR", word(b"\x00\x82\x00\x00")) == ["PRECISERR", "BFARVALID"]


def test_it_reads_ufsr_from_the_upper_halfword_of_cfsr():
    assert names("CFSR", word(b"\x00\x00\x00\x02")) == ["DIVBYZERO"]
    assert names("CFSR", word(b"\x00\x00\x01\x00")) == ["UNDEFINSTR"]


def test_it_reports_several_bits_set_at_once():
    # A push into a stack guard, then stacking the frame into it: DACCVIOL + MSTKERR.
    assert names("CFSR", 0x92) == ["DACCVIOL", "MSTKERR", "MMARVALID"]


def test_reserved_cfsr_bits_decode_to_nothing():
    reserved = 1 << 2 | 1 << 6 | 1 << 14 | 0x00E00000 | 0xFC000000
    assert decode_register("CFSR", reserved) == []


def test_it_marks_cause_and_valid_bits_apart():
    kinds = {bit.name: bit.kind for bit in decode_register("CFSR", 0x8282)}

    assert kinds == {
        "DACCVIOL": BitKind.CAUSE,
        "MMARVALID": BitKind.VALID,
        "PRECISERR": BitKind.CAUSE,
        "BFARVALID": BitKind.VALID,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1 << 1, ["VECTTBL"]), (1 << 30, ["FORCED"]), (1 << 31, ["DEBUGEVT"])],
)
def test_it_decodes_hfsr(value, expected):
    # B3.2.16: VECTTBL bit 1, FORCED bit 30, DEBUGEVT bit 31.
    assert names("HFSR", value) == expected


def test_it_decodes_every_dfsr_bit():
    # C1.6.1: HALTED 0, BKPT 1, DWTTRAP 2, VCATCH 3, EXTERNAL 4.
    assert names("DFSR", 0x1F) == ["HALTED", "BKPT", "DWTTRAP", "VCATCH", "EXTERNAL"]


def test_it_decodes_shcsr_active_and_enable_bits():
    # B3.2.13, the value the UsageFault fixtures capture: USGFAULTACT and the three enables.
    decoded = decode_register("SHCSR", 0x00070008)

    assert [(b.name, b.kind) for b in decoded] == [
        ("USGFAULTACT", BitKind.ACTIVE),
        ("MEMFAULTENA", BitKind.ENABLED),
        ("BUSFAULTENA", BitKind.ENABLED),
        ("USGFAULTENA", BitKind.ENABLED),
    ]


def test_it_decodes_the_armv8m_shcsr_bits():
    value = 1 << 2 | 1 << 4 | 1 << 5 | 1 << 19 | 1 << 20 | 1 << 21
    assert names("SHCSR", value) == [
        "HARDFAULTACT",
        "SECUREFAULTACT",
        "NMIACT",
        "SECUREFAULTENA",
        "SECUREFAULTPENDED",
        "HARDFAULTPENDED",
    ]


def test_it_decodes_shcsr_pending_bits():
    assert names("SHCSR", 0xF000) == [
        "USGFAULTPENDED",
        "MEMFAULTPENDED",
        "BUSFAULTPENDED",
        "SVCALLPENDED",
    ]


def test_it_decodes_sfsr():
    # Armv8-M SAU_SFSR: INVEP 0 ... LSERR 7; AUVIOL 3 with SFARVALID 6.
    assert names("SFSR", 0x48) == ["AUVIOL", "SFARVALID"]
    assert names("SFSR", 0xFF) == [
        "INVEP",
        "INVIS",
        "INVER",
        "AUVIOL",
        "INVTRAN",
        "LSPERR",
        "SFARVALID",
        "LSERR",
    ]


def test_it_decodes_icsr_fields_with_their_values():
    # B3.2.4, captured in a UsageFault handler with SysTick pending.
    decoded = {bit.name: bit.value for bit in decode_register("ICSR", 0x0400F806)}

    assert decoded == {"VECTACTIVE": 6, "RETTOBASE": 1, "VECTPENDING": 15, "PENDSTSET": 1}


def test_afsr_bits_are_reported_by_position_only():
    # B3.2.19: the layout is IMPLEMENTATION DEFINED.
    decoded = decode_register("AFSR", 0x80000001)

    assert [b.name for b in decoded] == ["AFSR[0]", "AFSR[31]"]
    assert {b.meaning for b in decoded} == {"implementation defined"}


@pytest.mark.parametrize("register", sorted(TABLES))
def test_no_two_rows_of_a_table_overlap(register):
    taken = set()
    for spec in TABLES[register]:
        positions = set(range(spec.bit, spec.bit + spec.width))
        assert not positions & taken, spec.name
        taken |= positions

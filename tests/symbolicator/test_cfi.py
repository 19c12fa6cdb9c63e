"""DWARF call frame information, byte by byte: CIE/FDE headers, each DW_CFA instruction
and each register rule's recovery.

DWARF 5 section 6.4.1 (CIE and FDE layout), 6.4.2 (call frame instructions), 7.24 (their
encodings, table 7.29); .eh_frame as the Linux Standard Base 5.0 section 10.6 lays it out
(a CIE id of 0, a CIE pointer that counts back, 'z' augmentation data and DW_EH_PE pointer
encodings). ARM numbers registers as AADWARF32: r13 = SP (13), LR = 14.
"""

import struct

import pytest

from symbolicator.cfi import (
    CfiError,
    Cie,
    Fde,
    FrameSection,
    iter_fdes,
    parse_fde_at,
    row_for,
    rules,
)
from symbolicator.leb128 import encode_sleb as sleb
from symbolicator.leb128 import encode_uleb as uleb
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span

SP, LR, R4, R7 = 13, 14, 4, 7


def entry(body: bytes) -> bytes:
    """A CIE or FDE: 4-byte length, then the body padded to 4 bytes with DW_CFA_nop."""
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<I", len(body)) + body


# -- DW_CFA instructions (DWARF 5 table 7.29) ----------------------------------------


def advance_loc(delta):
    return bytes([0x40 | delta])


def offset(register, factored):
    return bytes([0x80 | register]) + uleb(factored)


def restore(register):
    return bytes([0xC0 | register])


def op(code: int, *operands: bytes) -> bytes:
    return bytes([code]) + b"".join(operands)


NOP, SET_LOC, ADVANCE_LOC1, ADVANCE_LOC2, ADVANCE_LOC4 = 0x00, 0x01, 0x02, 0x03, 0x04
OFFSET_EXTENDED, RESTORE_EXTENDED, UNDEFINED, SAME_VALUE, REGISTER = 0x05, 0x06, 0x07, 0x08, 0x09
REMEMBER_STATE, RESTORE_STATE, DEF_CFA, DEF_CFA_REGISTER = 0x0A, 0x0B, 0x0C, 0x0D
DEF_CFA_OFFSET, DEF_CFA_EXPRESSION, EXPRESSION, OFFSET_EXTENDED_SF = 0x0E, 0x0F, 0x10, 0x11
DEF_CFA_SF, DEF_CFA_OFFSET_SF, VAL_OFFSET, VAL_OFFSET_SF = 0x12, 0x13, 0x14, 0x15
VAL_EXPRESSION, GNU_ARGS_SIZE, GNU_NEGATIVE_OFFSET_EXTENDED = 0x16, 0x2E, 0x2F

# What GCC 12 for arm-none-eabi puts in every CIE (cortex-m-unwinding.md 2.1): CFA = r13 + 0.
GCC_INITIAL = op(DEF_CFA, uleb(SP), uleb(0))
START = 0x1000


def fde(*instructions: bytes, initial: bytes = GCC_INITIAL, code=2, data=-4) -> Fde:
    """An FDE for [0x1000, 0x1100) with GCC's ARM alignment factors (2 and -4)."""
    cie = Cie(0, 1, code, data, LR, initial)
    return Fde(0x20, cie, START, START + 0x100, b"".join(instructions))


# -- headers: .debug_frame -------------------------------------------------------------


def debug_frame_cie(version: int, ra: int = LR, instructions: bytes = GCC_INITIAL) -> bytes:
    """DWARF 5 6.4.1: CIE_id 0xffffffff, version, augmentation "", [address_size and
    segment_selector_size from version 4], code and data alignment factors, and the
    return address register: a ubyte in version 1, a ULEB128 from version 3."""
    body = struct.pack("<IB", 0xFFFFFFFF, version) + b"\x00"
    if version >= 4:
        body += b"\x04\x00"
    body += uleb(2) + sleb(-4) + (bytes([ra]) if version == 1 else uleb(ra))
    return entry(body + instructions)


def debug_frame_fde(cie_offset: int, start: int, length: int, instructions: bytes) -> bytes:
    """DWARF 5 6.4.1: CIE_pointer (an offset into .debug_frame), initial_location,
    address_range, instructions."""
    return entry(struct.pack("<III", cie_offset, start, length) + instructions)


@pytest.mark.parametrize("version", [1, 3, 4])
def test_it_reads_a_debug_frame_cie_of_each_version(version):
    section = FrameSection(
        debug_frame_cie(version) + debug_frame_fde(0, 0x08000100, 0x40, advance_loc(1))
    )

    (found,) = iter_fdes(section)

    assert (found.cie.version, found.cie.code_alignment, found.cie.data_alignment) == (
        version,
        2,
        -4,
    )
    assert found.cie.return_address_register == LR
    instructions = found.cie.instructions
    assert instructions.startswith(GCC_INITIAL)
    assert set(instructions[len(GCC_INITIAL) :]) <= {0}  # DW_CFA_nop padding
    assert (found.start, found.end) == (0x08000100, 0x08000140)
    assert found.instructions == b"\x41\x00\x00\x00"  # advance_loc 1, nop padding


def test_it_reads_a_return_address_register_above_127_as_uleb128_from_version_3():
    # 143 is RA_AUTH_CODE (PACBTI): two ULEB128 bytes, 0x8f 0x01.
    section = FrameSection(debug_frame_cie(3, ra=143) + debug_frame_fde(0, 0x100, 4, b""))

    (found,) = iter_fdes(section)

    assert found.cie.return_address_register == 143
    assert found.cie.instructions.startswith(GCC_INITIAL)


def test_it_finds_the_cie_of_each_fde_by_its_section_offset():
    first = debug_frame_cie(1)
    second = debug_frame_cie(3, instructions=op(DEF_CFA, uleb(R7), uleb(8)))
    section = FrameSection(
        first
        + second
        + debug_frame_fde(len(first), 0x200, 8, b"")
        + debug_frame_fde(0, 0x100, 8, b"")
    )

    fdes = list(iter_fdes(section))

    assert [(f.start, f.cie.version, f.cie.offset) for f in fdes] == [
        (0x200, 3, len(first)),
        (0x100, 1, 0),
    ]


def test_an_fde_may_come_before_its_cie():
    # IAR writes the CIE after its FDEs (pyelftools issue #562); the pointer is an offset.
    fde_bytes = debug_frame_fde(16, 0x400, 0x10, b"")  # 16 bytes: the CIE follows
    section = FrameSection(fde_bytes + debug_frame_cie(4))

    (found,) = iter_fdes(section)

    assert (found.start, found.cie.offset, found.cie.version) == (0x400, 16, 4)


def test_it_parses_one_fde_at_an_offset_with_its_cie():
    cie = debug_frame_cie(1)
    section = FrameSection(cie + debug_frame_fde(0, 0x300, 0x10, offset(LR, 1)))

    found = parse_fde_at(section, len(cie))

    assert (found.offset, found.start, found.end) == (len(cie), 0x300, 0x310)
    assert found.instructions == b"\x8e\x01\x00\x00"  # padded with nops
    assert found.cie.return_address_register == LR


def test_it_refuses_64_bit_dwarf_cfi():
    # DWARF 5 7.4: an initial length of 0xffffffff announces the 64-bit format.
    with pytest.raises(CfiError, match="64-bit"):
        list(iter_fdes(FrameSection(b"\xff\xff\xff\xff" + b"\x00" * 12)))


# -- headers: .eh_frame ------------------------------------------------------------------

EH_FRAME_ADDRESS = 0x08004000
PCREL_SDATA4 = 0x1B  # DW_EH_PE_pcrel | DW_EH_PE_sdata4


def eh_frame_cie(encoding: int = PCREL_SDATA4) -> bytes:
    """LSB 10.6.1.1: CIE id 0, version 1, "zR", factors, a ubyte return address
    register, augmentation data length, then the FDE pointer encoding."""
    body = struct.pack("<IB", 0, 1) + b"zR\x00" + uleb(2) + sleb(-4) + bytes([LR])
    return entry(body + uleb(1) + bytes([encoding]) + GCC_INITIAL)


def eh_frame_fde(at: int, cie_at: int, start: int, length: int, instructions: bytes) -> bytes:
    """LSB 10.6.1.2: the CIE pointer counts back from its own field to the CIE; pc_begin
    is relative to its own address (pcrel), pc_range is a plain sdata4; with 'z' the
    augmentation data length follows."""
    pointer_at = at + 4
    begin_at = pointer_at + 4
    relative = start - (EH_FRAME_ADDRESS + begin_at)
    body = struct.pack("<Iii", pointer_at - cie_at, relative, length) + uleb(0)
    return entry(body + instructions)


def test_it_reads_an_eh_frame_fde_with_a_pc_relative_start_and_a_cie_pointer_counting_back():
    cie = eh_frame_cie()
    fde_bytes = eh_frame_fde(len(cie), 0, 0x08000200, 0x30, offset(LR, 1))
    section = FrameSection(cie + fde_bytes + b"\x00\x00\x00\x00", EH_FRAME_ADDRESS, True)

    (found,) = iter_fdes(section)

    assert (found.start, found.end) == (0x08000200, 0x08000230)
    assert found.cie.augmentation == "zR"
    assert found.cie.address_encoding == PCREL_SDATA4
    assert found.cie.instructions == GCC_INITIAL
    assert found.instructions.startswith(b"\x8e\x01")  # after the empty augmentation data


def test_it_reads_an_eh_frame_start_below_the_section_as_a_negative_offset():
    cie = eh_frame_cie()
    fde_bytes = eh_frame_fde(len(cie), 0, 0x08000000, 0x10, b"")
    section = FrameSection(cie + fde_bytes, EH_FRAME_ADDRESS, True)

    (found,) = iter_fdes(section)

    assert found.start == 0x08000000


def test_it_stops_at_the_eh_frame_zero_terminator():
    cie = eh_frame_cie()
    fde_bytes = eh_frame_fde(len(cie), 0, 0x08000200, 0x30, b"")
    garbage = b"\xde\xad\xbe\xef" * 4
    section = FrameSection(cie + fde_bytes + b"\x00" * 4 + garbage, EH_FRAME_ADDRESS, True)

    assert [f.start for f in iter_fdes(section)] == [0x08000200]


def test_it_finds_the_fde_encoding_after_a_personality_in_zplr_augmentation_data():
    # C++ CIE: 'P' = personality encoding 0x9b and a 4-byte pointer, 'L' = LSDA
    # encoding, 'R' = FDE encoding; the FDE then carries a 4-byte LSDA pointer.
    data = bytes([0x9B]) + struct.pack("<i", -64) + bytes([0x1B, PCREL_SDATA4])
    body = struct.pack("<IB", 0, 1) + b"zPLR\x00" + uleb(2) + sleb(-4) + bytes([LR])
    cie = entry(body + uleb(len(data)) + data + GCC_INITIAL)
    begin_at = len(cie) + 8
    relative = 0x08000600 - (EH_FRAME_ADDRESS + begin_at)
    fde_body = struct.pack("<Iii", len(cie) + 4, relative, 0x10) + uleb(4) + b"\xaa" * 4
    section = FrameSection(cie + entry(fde_body + offset(LR, 1)), EH_FRAME_ADDRESS, True)

    (found,) = iter_fdes(section)

    assert found.cie.address_encoding == PCREL_SDATA4
    assert found.cie.instructions == GCC_INITIAL + b"\x00" * (len(found.cie.instructions) - 3)
    assert (found.start, found.end) == (0x08000600, 0x08000610)
    assert found.instructions.startswith(b"\x8e\x01")  # after the LSDA pointer


def test_it_reads_absolute_udata4_eh_frame_pointers_without_adding_the_address():
    cie = eh_frame_cie(encoding=0x03)  # DW_EH_PE_udata4
    body = struct.pack("<III", len(cie) + 4, 0x08000400, 0x20) + uleb(0)
    section = FrameSection(cie + entry(body), EH_FRAME_ADDRESS, True)

    (found,) = iter_fdes(section)

    assert (found.start, found.end) == (0x08000400, 0x08000420)


# -- row_for: rows and locations (DWARF 5 6.4.2.1) ------------------------------------


def cfa(row):
    return (row.cfa.register, row.cfa.offset)


def test_the_cie_initial_instructions_make_the_first_row():
    row = row_for(fde(), START)

    assert cfa(row) == (SP, 0)
    assert row.registers == {}


def test_a_row_applies_from_its_location_up_to_but_not_including_the_next():
    # push {r7, lr} (2 bytes), then the CFA moves: advance_loc 1 * code factor 2.
    table = fde(advance_loc(1), op(DEF_CFA_OFFSET, uleb(8)), offset(LR, 1))

    assert cfa(row_for(table, START)) == (SP, 0)
    assert cfa(row_for(table, START + 1)) == (SP, 0)
    assert cfa(row_for(table, START + 2)) == (SP, 8)
    assert row_for(table, START + 2).registers == {LR: rules.Offset(-4)}
    assert cfa(row_for(table, START + 0xFF)) == (SP, 8)


def test_advance_loc_factors_its_delta_by_the_code_alignment():
    table = fde(advance_loc(3), op(DEF_CFA_OFFSET, uleb(16)))

    assert cfa(row_for(table, START + 5)) == (SP, 0)
    assert cfa(row_for(table, START + 6)) == (SP, 16)


@pytest.mark.parametrize(
    ("instruction", "delta"),
    [
        (op(ADVANCE_LOC1, b"\x80"), 0x80),
        (op(ADVANCE_LOC2, struct.pack("<H", 0x0040)), 0x40),
        (op(ADVANCE_LOC4, struct.pack("<I", 0x00000041)), 0x41),
    ],
)
def test_advance_loc1_2_and_4_read_1_2_and_4_byte_deltas(instruction, delta):
    table = fde(instruction, op(DEF_CFA_OFFSET, uleb(24)))
    moved = START + 2 * delta

    assert cfa(row_for(table, moved - 1)) == (SP, 0)
    assert cfa(row_for(table, moved)) == (SP, 24)


def test_set_loc_starts_a_row_at_an_absolute_address():
    table = fde(op(SET_LOC, struct.pack("<I", START + 0x20)), op(DEF_CFA_OFFSET, uleb(8)))

    assert cfa(row_for(table, START + 0x1F)) == (SP, 0)
    assert cfa(row_for(table, START + 0x20)) == (SP, 8)


def test_instructions_after_the_row_that_covers_the_pc_are_not_applied():
    table = fde(
        advance_loc(1),
        op(DEF_CFA_OFFSET, uleb(8)),
        advance_loc(1),
        op(DEF_CFA_OFFSET, uleb(32)),
        offset(R4, 8),
    )

    row = row_for(table, START + 2)

    assert cfa(row) == (SP, 8)
    assert R4 not in row.registers


# -- row_for: CFA definitions (DWARF 5 6.4.2.2) ----------------------------------------


def test_def_cfa_sets_register_and_unfactored_offset():
    assert cfa(row_for(fde(op(DEF_CFA, uleb(R7), uleb(16))), START)) == (R7, 16)


def test_def_cfa_sf_factors_its_offset_by_the_data_alignment_factor():
    # DWARF 5 6.4.2.2: "the offset is factored_offset * data_alignment_factor"; on ARM
    # that is -4, where pyelftools wrongly uses the code factor 2 (reference 2.3).
    row = row_for(fde(op(DEF_CFA_SF, uleb(SP), sleb(-2))), START)

    assert cfa(row) == (SP, 8)


def test_def_cfa_register_keeps_the_offset():
    table = fde(op(DEF_CFA_OFFSET, uleb(8)), op(DEF_CFA_REGISTER, uleb(R7)))

    assert cfa(row_for(table, START)) == (R7, 8)


def test_def_cfa_offset_keeps_the_register_and_does_not_factor():
    table = fde(op(DEF_CFA_REGISTER, uleb(R7)), op(DEF_CFA_OFFSET, uleb(12)))

    assert cfa(row_for(table, START)) == (R7, 12)


def test_def_cfa_offset_sf_factors_by_the_data_alignment_factor():
    assert cfa(row_for(fde(op(DEF_CFA_OFFSET_SF, sleb(-3))), START)) == (SP, 12)


def test_def_cfa_expression_replaces_the_register_rule():
    expression = bytes([0x7D, 0x08])  # DW_OP_breg13 8
    row = row_for(fde(op(DEF_CFA_EXPRESSION, uleb(len(expression)), expression)), START)

    assert row.cfa == rules.CfaExpression(expression)


def test_def_cfa_offset_without_a_register_based_cfa_is_an_error():
    expression = bytes([0x7D, 0x08])
    table = fde(op(DEF_CFA_EXPRESSION, uleb(2), expression), op(DEF_CFA_OFFSET, uleb(4)))

    with pytest.raises(CfiError, match="not register-based"):
        row_for(table, START)


# -- row_for: register rules (DWARF 5 6.4.2.3) -------------------------------------------


def rule_at_start(*instructions: bytes, register: int = R4):
    return row_for(fde(*instructions), START).registers.get(register)


def test_offset_factors_an_unsigned_offset_by_the_data_alignment():
    assert rule_at_start(offset(R4, 3)) == rules.Offset(-12)


def test_offset_extended_names_registers_past_63():
    # vpush {d8}: GCC describes s16 as DWARF 80 (cortex-m-unwinding.md 2.1).
    assert rule_at_start(op(OFFSET_EXTENDED, uleb(80), uleb(4)), register=80) == rules.Offset(-16)


def test_offset_extended_sf_takes_a_signed_factored_offset():
    instruction = op(OFFSET_EXTENDED_SF, uleb(R4), sleb(-2))

    assert rule_at_start(instruction) == rules.Offset(8)


def test_gnu_negative_offset_extended_negates_the_factored_offset():
    # binutils/GDB: offset = -(uleb * data_alignment_factor).
    instruction = op(GNU_NEGATIVE_OFFSET_EXTENDED, uleb(R4), uleb(2))

    assert rule_at_start(instruction) == rules.Offset(8)


def test_val_offset_factors_an_unsigned_offset():
    assert rule_at_start(op(VAL_OFFSET, uleb(R4), uleb(2))) == rules.ValueOffset(-8)


def test_val_offset_sf_factors_a_signed_offset():
    assert rule_at_start(op(VAL_OFFSET_SF, uleb(R4), sleb(-2))) == rules.ValueOffset(8)


def test_register_says_the_value_is_in_another_register():
    assert rule_at_start(op(REGISTER, uleb(R4), uleb(12))) == rules.InRegister(12)


def test_expression_and_val_expression_keep_their_blocks():
    block = bytes([0x23, 0x04])  # DW_OP_plus_uconst 4
    table = fde(
        op(EXPRESSION, uleb(R4), uleb(2), block),
        op(VAL_EXPRESSION, uleb(5), uleb(2), block),
    )
    row = row_for(table, START)

    assert row.registers[R4] == rules.Expression(block)
    assert row.registers[5] == rules.ValueExpression(block)


def test_undefined_and_same_value_set_their_rules():
    table = fde(op(UNDEFINED, uleb(LR)), op(SAME_VALUE, uleb(R4)))
    row = row_for(table, START)

    assert isinstance(row.registers[LR], rules.Undefined)
    assert isinstance(row.registers[R4], rules.SameValue)


def test_restore_returns_a_register_to_the_cie_initial_rule():
    initial = GCC_INITIAL + offset(LR, 1)
    table = fde(advance_loc(1), offset(LR, 3), advance_loc(1), restore(LR), initial=initial)

    assert row_for(table, START + 2).registers[LR] == rules.Offset(-12)
    assert row_for(table, START + 4).registers[LR] == rules.Offset(-4)


def test_restore_of_a_register_the_cie_left_alone_removes_its_rule():
    table = fde(offset(R4, 2), advance_loc(1), restore(R4))

    assert row_for(table, START).registers == {R4: rules.Offset(-8)}
    assert row_for(table, START + 2).registers == {}


def test_restore_extended_works_for_registers_past_63():
    initial = GCC_INITIAL + op(SAME_VALUE, uleb(80))
    table = fde(
        op(OFFSET_EXTENDED, uleb(80), uleb(2)),
        advance_loc(1),
        op(RESTORE_EXTENDED, uleb(80)),
        initial=initial,
    )

    assert row_for(table, START).registers[80] == rules.Offset(-8)
    assert isinstance(row_for(table, START + 2).registers[80], rules.SameValue)


# -- row_for: row state (DWARF 5 6.4.2.4) and padding (6.4.2.5) -------------------------


def test_remember_and_restore_state_bring_back_the_registers_and_the_cfa():
    # A return in the middle of a function: the epilogue pops, the code after it still
    # runs with the frame (GCC emits this pair at -O2, cortex-m-unwinding.md 2.1). GDB
    # keeps the CFA in the remembered state too (dwarf2/frame.c, DW_CFA_restore_state).
    table = fde(
        op(DEF_CFA_OFFSET, uleb(8)),
        offset(R4, 2),
        offset(LR, 1),
        op(REMEMBER_STATE),
        advance_loc(1),
        op(DEF_CFA_OFFSET, uleb(0)),
        restore(R4),
        restore(LR),
        advance_loc(1),
        op(RESTORE_STATE),
    )

    epilogue = row_for(table, START + 2)
    after = row_for(table, START + 4)

    assert (cfa(epilogue), epilogue.registers) == ((SP, 0), {})
    assert cfa(after) == (SP, 8)
    assert after.registers == {R4: rules.Offset(-8), LR: rules.Offset(-4)}


def test_remembered_state_is_a_copy_not_the_live_row():
    table = fde(
        offset(R4, 2),
        op(REMEMBER_STATE),
        offset(R4, 5),
        op(RESTORE_STATE),
    )

    assert row_for(table, START).registers[R4] == rules.Offset(-8)


def test_restore_state_without_remember_state_is_an_error():
    with pytest.raises(CfiError, match="restore_state without remember_state"):
        row_for(fde(op(RESTORE_STATE)), START)


def test_nop_and_gnu_args_size_change_nothing():
    table = fde(op(NOP), op(GNU_ARGS_SIZE, uleb(300)), op(NOP), op(DEF_CFA_OFFSET, uleb(4)))

    row = row_for(table, START)

    assert (cfa(row), row.registers) == ((SP, 4), {})


def test_an_unknown_instruction_is_an_error_naming_it():
    with pytest.raises(CfiError, match="0x3f"):
        row_for(fde(op(0x3F)), START)


# -- rules: how each recovers the caller's value (DWARF 5 6.4.1) -------------------------

CFA = 0x20000100


def stack(*words: int, at: int = CFA - 8) -> Memory:
    return Memory([Span(at, struct.pack(f"<{len(words)}I", *words), SOURCE_COREDUMP)])


def test_offset_reads_the_word_saved_at_cfa_plus_n():
    memory = stack(0x11111111, 0x08000123)

    assert rules.Offset(-4).recover(LR, CFA, {}, memory) == 0x08000123
    assert rules.Offset(-8).recover(R4, CFA, {}, memory) == 0x11111111


def test_value_offset_is_cfa_plus_n_itself():
    assert rules.ValueOffset(-8).recover(SP, CFA, {}, None) == CFA - 8


def test_in_register_copies_the_callee_register():
    assert rules.InRegister(12).recover(R4, CFA, {12: 0xCAFE}, None) == 0xCAFE
    assert rules.InRegister(12).recover(R4, CFA, {}, None) is None


def test_expression_pushes_the_cfa_first_and_reads_memory_at_the_result():
    memory = stack(0xAAAAAAAA, 0xBBBBBBBB)
    minus_four = bytes([0x34, 0x1C])  # DW_OP_lit4, DW_OP_minus: CFA - 4

    assert rules.Expression(minus_four).recover(R4, CFA, {}, memory) == 0xBBBBBBBB


def test_value_expression_pushes_the_cfa_first_and_is_the_result():
    plus_sixteen = bytes([0x23, 0x10])  # DW_OP_plus_uconst 16

    assert rules.ValueExpression(plus_sixteen).recover(R4, CFA, {}, None) == CFA + 16


def test_expressions_may_read_the_callee_registers():
    # DW_OP_breg7 4: r7 + 4, ignoring the CFA below it on the stack.
    value = rules.ValueExpression(bytes([0x77, 0x04])).recover(R4, CFA, {R7: 0x2000}, None)

    assert value == 0x2004


def test_undefined_recovers_nothing():
    assert rules.UNDEFINED.recover(LR, CFA, {LR: 0x123}, None) is None


def test_same_value_keeps_the_callee_register():
    assert rules.SAME_VALUE.recover(R4, CFA, {R4: 0x44}, None) == 0x44


def test_a_register_plus_offset_cfa_wraps_at_32_bits():
    assert rules.CfaRegisterOffset(SP, 8).compute({SP: 0xFFFFFFFC}, None) == 4


def test_an_expression_cfa_is_computed_from_the_registers():
    expression = bytes([0x7D, 0x10])  # DW_OP_breg13 16

    assert rules.CfaExpression(expression).compute({SP: 0x20000000}, None) == 0x20000010


@pytest.mark.parametrize(
    "cut",
    [op(ADVANCE_LOC2, b"\x40"), op(DEF_CFA, uleb(SP)), op(DEF_CFA_OFFSET, b"\x80")],
    ids=["fixed operand", "missing operand", "LEB128 operand"],
)
def test_instructions_cut_off_by_their_end_are_a_cfi_error(cut):
    """Found by fuzzing (issue 12): struct.error, IndexError and Leb128Error escaped from
    the instructions, which are decoded only when an unwind step needs them; the
    unwinder turns a CfiError into a step it cannot take."""
    with pytest.raises(CfiError, match="CFA instructions of the FDE at 32 run past their end"):
        row_for(fde(cut), START + 0x80)

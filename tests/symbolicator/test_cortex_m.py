"""Cortex-M exception frames, word by word.

ARMv7-M ARM (DDI 0403E) B1.5.6 (exception entry: the stacked frame and the xPSR bit 9
alignment word), B1.5.8 (EXC_RETURN); ARMv8-M ARM D1.2.95 (EXC_RETURN.S/DCRS/ES) and
B3.19 (context stacking, the additional state context); cortex-m-unwinding.md sections
1.2 to 1.7, which follow GDB 13's arm_m_exception_cache.
"""

import struct

import pytest

from symbolicator.errors import UnreadableMemory
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span
from symbolicator.unwind import cortex_m
from symbolicator.unwind.cortex_m import ExcReturn, is_exc_return, read_exception_frame

BASE = 0x20000F00

# cortex-m-unwinding.md 1.5, the table of values: (value, thread mode, PSP, extended frame).
EXC_RETURN_TABLE = [
    (0xFFFFFFF1, False, False, False),
    (0xFFFFFFF9, True, False, False),
    (0xFFFFFFFD, True, True, False),
    (0xFFFFFFE1, False, False, True),
    (0xFFFFFFE9, True, False, True),
    (0xFFFFFFED, True, True, True),
    # ARMv8-M, Non-secure (or no security extension): S = 0, DCRS = 1, ES = 0.
    (0xFFFFFFB0, False, False, False),
    (0xFFFFFFB8, True, False, False),
    (0xFFFFFFBC, True, True, False),
    (0xFFFFFFA0, False, False, True),
    (0xFFFFFFA8, True, False, True),
    (0xFFFFFFAC, True, True, True),
]


def words(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def memory_at(address: int, data: bytes) -> Memory:
    return Memory([Span(address, data, SOURCE_COREDUMP)])


# B1.5.6: R0, R1, R2, R3, R12, LR, ReturnAddress, xPSR at +0x00 ... +0x1C.
BASIC = words(0x10, 0x11, 0x12, 0x13, 0x1C, 0x08000101, 0x08000200, 0x01000000)


@pytest.mark.parametrize(("value", "thread", "psp", "extended"), EXC_RETURN_TABLE)
def test_it_decodes_each_exc_return_value(value, thread, psp, extended):
    exc = ExcReturn(value)

    assert is_exc_return(value)
    assert (exc.to_thread_mode, exc.uses_psp, exc.extended_frame) == (thread, psp, extended)
    assert exc.frame_size == (0x68 if extended else 0x20)


@pytest.mark.parametrize(("value", "thread", "psp", "extended"), EXC_RETURN_TABLE)
def test_it_describes_the_stack_and_frame_type(value, thread, psp, extended):
    text = ExcReturn(value).describe()

    assert ("PSP" if psp else "MSP") in text
    assert ("FPU extended" if extended else "basic") in text


def test_v7m_values_read_as_secure_with_default_callee_stacking():
    # On v7-M bits 6 and 5 are RES1, which is what v8-M's S = 1, DCRS = 1 mean.
    exc = ExcReturn(0xFFFFFFFD)

    assert exc.secure_stack
    assert exc.default_callee_stacking


def test_v8m_non_secure_values_are_on_a_non_secure_stack():
    exc = ExcReturn(0xFFFFFFBC)

    assert not exc.secure_stack
    assert exc.default_callee_stacking


@pytest.mark.parametrize("value", [0xEFFFFFFE, 0xFFFFFFFE, 0xFFFFFFFF])
def test_lockup_values_are_not_exc_return(value):
    # GDB arm_m_addr_is_lockup: these end unwinding instead (reference 1.5).
    assert not is_exc_return(value)
    assert value in cortex_m.LOCKUP_VALUES


@pytest.mark.parametrize("value", [0xFEFFFFFF, 0x08000201, 0x00000000, 0x7FFFFFFD])
def test_fnc_return_and_addresses_are_not_exc_return(value):
    assert not is_exc_return(value)


# -- read_exception_frame -------------------------------------------------------------


def test_it_reads_the_basic_frame_and_finds_the_sp_above_it():
    stacked = read_exception_frame(memory_at(BASE, BASIC), ExcReturn(0xFFFFFFFD), BASE)

    assert stacked.registers == {
        "r0": 0x10,
        "r1": 0x11,
        "r2": 0x12,
        "r3": 0x13,
        "r12": 0x1C,
        "lr": 0x08000101,
        "pc": 0x08000200,
        "xpsr": 0x01000000,
    }
    assert (stacked.frame_base, stacked.sp_before, stacked.fp_stacked) == (
        BASE,
        BASE + 0x20,
        False,
    )


def test_the_stacked_pc_loses_bit_0():
    frame = words(0, 0, 0, 0, 0, 0, 0x08000201, 0x01000000)

    stacked = read_exception_frame(memory_at(BASE, frame), ExcReturn(0xFFFFFFF9), BASE)

    assert stacked.registers["pc"] == 0x08000200


def test_xpsr_bit_9_adds_the_alignment_word_to_the_sp():
    # B1.5.6: the core skipped 4 bytes to 8-align the frame and said so in xPSR bit 9.
    frame = words(0, 0, 0, 0, 0, 0, 0x08000200, 0x01000200)

    stacked = read_exception_frame(memory_at(BASE, frame), ExcReturn(0xFFFFFFF9), BASE)

    assert stacked.sp_before == BASE + 0x20 + 4


def extended_frame(xpsr: int = 0x01000000) -> bytes:
    """26 words: the basic frame, S0-S15 at +0x20, FPSCR at +0x60, reserved at +0x64."""
    s_registers = [0x3F800000 + n for n in range(16)]
    return words(1, 2, 3, 4, 12, 0x08000101, 0x08000300, xpsr, *s_registers, 0x03000000, 0)


def test_it_reads_the_26_word_extended_frame():
    stacked = read_exception_frame(memory_at(BASE, extended_frame()), ExcReturn(0xFFFFFFED), BASE)

    assert stacked.registers["s0"] == 0x3F800000
    assert stacked.registers["s15"] == 0x3F80000F
    assert stacked.registers["fpscr"] == 0x03000000
    assert stacked.registers["pc"] == 0x08000300
    assert (stacked.sp_before, stacked.fp_stacked) == (BASE + 0x68, True)


def test_the_extended_frame_with_the_alignment_word_is_0x6c_bytes():
    memory = memory_at(BASE, extended_frame(xpsr=0x01000200))

    stacked = read_exception_frame(memory, ExcReturn(0xFFFFFFE9), BASE)

    assert stacked.sp_before == BASE + 0x68 + 4


def test_a_basic_frame_reads_no_fp_registers():
    stacked = read_exception_frame(memory_at(BASE, BASIC), ExcReturn(0xFFFFFFF1), BASE)

    assert not any(name.startswith("s") or name == "fpscr" for name in stacked.registers)


def additional_state_context() -> bytes:
    """ARMv8-M: integrity signature, reserved, then r4-r11, below the state context."""
    return words(0xFEFA125B, 0, *(0x40 + n for n in range(8)))


def test_it_reads_r4_to_r11_below_r0_when_dcrs_is_0_on_a_secure_stack():
    # S = 1, DCRS = 0, FType = 1, Thread, PSP, ES = 1.
    exc = ExcReturn(0xFFFFFFDD)
    memory = memory_at(BASE, additional_state_context() + BASIC)

    stacked = read_exception_frame(memory, exc, BASE)

    assert [stacked.registers[f"r{n}"] for n in range(4, 12)] == [0x40 + n for n in range(8)]
    assert stacked.registers["r0"] == 0x10
    assert stacked.registers["pc"] == 0x08000200
    assert stacked.frame_base == BASE + 0x28
    assert stacked.sp_before == BASE + 0x28 + 0x20


def test_it_reads_r4_to_r11_below_r0_when_a_non_secure_handler_interrupted_secure_code():
    # S = 1, DCRS = 1, FType = 1, Thread, PSP, ES = 0. GDB arm_m_exception_cache reads
    # R4-R11 when "secure_stack_used && (!default_callee_register_stacking ||
    # !exception_domain_is_secure)". ES = 0 cannot happen on v7-M (bit 0 is always 1).
    exc = ExcReturn(0xFFFFFFFC)
    memory = memory_at(BASE, additional_state_context() + BASIC)

    stacked = read_exception_frame(memory, exc, BASE)

    assert stacked.registers["r4"] == 0x40
    assert stacked.frame_base == BASE + 0x28


def test_dcrs_0_on_a_non_secure_stack_has_no_additional_state():
    # S = 0: the additional state context only exists on Secure stacks.
    exc = ExcReturn(0xFFFFFF9C)

    stacked = read_exception_frame(memory_at(BASE, BASIC), exc, BASE)

    assert stacked.frame_base == BASE
    assert "r4" not in stacked.registers


def test_a_frame_that_was_not_captured_raises_unreadable_memory():
    short = memory_at(BASE, BASIC[:0x1C])  # xPSR missing

    with pytest.raises(UnreadableMemory):
        read_exception_frame(short, ExcReturn(0xFFFFFFFD), BASE)


# -- stacking_failure -------------------------------------------------------------------

CFSR = 0xE000ED28


@pytest.mark.parametrize(
    ("cfsr", "expected"),
    [
        (1 << 4, "MSTKERR"),  # B3.2.15: MemManage fault on exception entry stacking
        (1 << 12, "STKERR"),  # BusFault on exception entry stacking
        ((1 << 4) | (1 << 12), "MSTKERR"),
    ],
)
def test_it_reports_a_failed_exception_entry_push_from_the_captured_cfsr(cfsr, expected):
    reason = cortex_m.stacking_failure(memory_at(CFSR, words(cfsr)))

    assert reason.startswith(f"{expected}:")
    assert "could not stack the exception frame" in reason


def test_other_fault_bits_are_not_a_stacking_failure():
    # DACCVIOL | MMARVALID | PRECISERR | UNSTKERR: faults, but the frame was stacked.
    cfsr = (1 << 1) | (1 << 7) | (1 << 9) | (1 << 11)

    assert cortex_m.stacking_failure(memory_at(CFSR, words(cfsr))) is None


def test_no_stacking_failure_is_assumed_when_cfsr_was_not_captured():
    assert cortex_m.stacking_failure(memory_at(0x20000000, words(0xFFFFFFFF))) is None

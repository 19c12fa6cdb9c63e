"""The unwinder's steps and loop, each rule on a hand-made stack and a fake index.

cortex-m-unwinding.md 1.7 (the exception step), 2.2 (CFI with GDB's semantics), 2.5
(fallbacks and sanity rules) and 1.8 (GDB's stop reasons, gdb/frame.c get_prev_frame).
Each test builds the few words of stack and the one FDE it needs.
"""

from __future__ import annotations

import struct

import pytest

from symbolicator.cfi import Cie, Fde
from symbolicator.index.functions import Function
from symbolicator.leb128 import encode_uleb as uleb
from symbolicator.memory import SOURCE_COREDUMP, SOURCE_ELF, Memory, Span
from symbolicator.unwind import unwinder
from symbolicator.unwind.frame import How, UnwoundFrame
from symbolicator.unwind.registers import RegisterValues
from symbolicator.unwind.steps import MissingRegister, NoStep, Outermost, cfi_step, exception_step
from tests.symbolicator.fake_index import FakeIndex

SP, LR, R4, R7 = 13, 14, 4, 7
MSP_TOP, PSP_TOP = 0x20001000, 0x20000800
FLASH = 0x08000000


# -- a fake symbol index ---------------------------------------------------------------


# DWARF 5 7.24: DW_CFA_def_cfa (0x0c), DW_CFA_offset (0x80 | reg), DW_CFA_undefined (0x07).
def def_cfa(register: int, offset: int) -> bytes:
    return b"\x0c" + uleb(register) + uleb(offset)


def saved(register: int, factored: int) -> bytes:
    return bytes([0x80 | register]) + uleb(factored)


def undefined(register: int) -> bytes:
    return b"\x07" + uleb(register)


GCC_CIE = Cie(0, 1, 2, -4, LR, def_cfa(SP, 0))  # cortex-m-unwinding.md 2.1


def fde_for(function: Function, *instructions: bytes) -> Fde:
    """An FDE whose rules all apply from the function's first instruction."""
    return Fde(0, GCC_CIE, function.start, function.end, b"".join(instructions))


# push {r4, lr}: CFA = sp + 8, r4 at CFA - 8, lr at CFA - 4.
PUSH_R4_LR = (def_cfa(SP, 8), saved(R4, 2), saved(LR, 1))


def words(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def ram(address: int, *values: int) -> Span:
    return Span(address, words(*values), SOURCE_COREDUMP)


def frame0(pc: int, **registers: int) -> UnwoundFrame:
    """The innermost frame of a context, as unwind() makes it."""
    values = RegisterValues({**registers, "pc": pc})
    return UnwoundFrame(pc=pc, registers=values, hint="", how=How.CONTEXT, interrupted=True)


def caller(pc: int, how: How = How.CFI, **registers: int) -> UnwoundFrame:
    """A frame unwinding found by a return address (looked up at pc - 1)."""
    values = RegisterValues({**registers, "pc": pc})
    return UnwoundFrame(pc=pc, registers=values, hint="", how=how)


HANDLER = Function("HardFault_Handler", FLASH + 0x100, FLASH + 0x140)
TASK = Function("task", FLASH + 0x200, FLASH + 0x280)
WORKER = Function("worker", FLASH + 0x300, FLASH + 0x380)
MAIN = Function("main", FLASH + 0x400, FLASH + 0x480)
RESET = Function("Reset_Handler", FLASH + 0x500, FLASH + 0x540)


# -- exception_step (cortex-m-unwinding.md 1.7) -----------------------------------------

STACKED = (0x10, 0x11, 0x12, 0x13, 0x1C, TASK.start + 0x11, TASK.start + 0x21, 0x01000000)


def exception_frame(exc_return: int, **registers: int) -> UnwoundFrame:
    values = RegisterValues({**registers, "pc": exc_return})
    return UnwoundFrame(pc=exc_return, registers=values, hint="", how=How.CFI, exception=True)


def test_exception_step_reads_the_frame_from_psp_when_exc_return_bit_2_is_set():
    memory = Memory([ram(PSP_TOP - 0x20, *STACKED)])
    frame = exception_frame(0xFFFFFFFD, sp=MSP_TOP, msp=MSP_TOP, psp=PSP_TOP - 0x20, r4=0x44)

    interrupted = exception_step(frame, memory)

    assert interrupted.pc == TASK.start + 0x20  # bit 0 of the stacked pc dropped
    assert interrupted.registers["r0"] == 0x10
    assert interrupted.registers["lr"] == TASK.start + 0x11
    assert interrupted.registers["sp"] == PSP_TOP
    assert interrupted.registers["psp"] == PSP_TOP
    assert interrupted.registers["msp"] == MSP_TOP  # the handler's stack stays where it was
    assert interrupted.registers["r4"] == 0x44  # not stacked by the core: carried through
    assert (interrupted.how, interrupted.interrupted) == (How.EXCEPTION, True)


def test_exception_step_reads_the_frame_at_the_current_sp_when_bit_2_is_clear():
    memory = Memory([ram(MSP_TOP - 0x40, *STACKED)])
    frame = exception_frame(0xFFFFFFF9, sp=MSP_TOP - 0x40, msp=MSP_TOP - 0x40, psp=PSP_TOP)

    interrupted = exception_step(frame, memory)

    assert interrupted.registers["r0"] == 0x10
    assert interrupted.registers["sp"] == MSP_TOP - 0x20
    assert interrupted.registers["msp"] == MSP_TOP - 0x20
    assert interrupted.registers["psp"] == PSP_TOP


def test_exception_step_needs_the_psp_for_a_thread_on_the_process_stack():
    frame = exception_frame(0xFFFFFFFD, sp=MSP_TOP, msp=MSP_TOP)

    with pytest.raises(NoStep, match="PSP value is not known"):
        exception_step(frame, Memory([]))


def test_exception_step_reports_a_frame_that_was_not_captured():
    frame = exception_frame(0xFFFFFFFD, sp=MSP_TOP, psp=PSP_TOP - 0x20)

    with pytest.raises(NoStep, match="was not captured"):
        exception_step(frame, Memory([]))


# -- cfi_step (cortex-m-unwinding.md 2.2) --------------------------------------------------


def test_cfi_step_restores_callee_saved_registers_from_their_slots():
    memory = Memory([ram(MSP_TOP - 8, 0x4444, TASK.start + 0x31)])
    frame = frame0(WORKER.start + 8, sp=MSP_TOP - 8, r4=0x1, lr=0x5, r0=0xAA)

    parent = cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR), memory)

    assert parent.pc == TASK.start + 0x30
    assert parent.registers["sp"] == MSP_TOP
    assert parent.registers["r4"] == 0x4444
    assert parent.registers["lr"] == TASK.start + 0x31
    assert frame.cfa == MSP_TOP
    assert {"r4", "lr", "sp", "pc"} <= parent.recovered


def test_registers_without_a_rule_keep_the_callee_value_as_gdb_does():
    # GDB dwarf2/frame.c: an unspecified register is "same value" (reference 2.2).
    memory = Memory([ram(MSP_TOP - 8, 0x4444, TASK.start + 0x31)])
    frame = frame0(WORKER.start + 8, sp=MSP_TOP - 8, r0=0xAA, r12=0xCC, r5=0x55, lr=1)

    parent = cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR), memory)

    assert (parent.registers["r0"], parent.registers["r12"], parent.registers["r5"]) == (
        0xAA,
        0xCC,
        0x55,
    )
    assert "r0" not in parent.recovered


@pytest.mark.parametrize(("return_address", "thumb"), [(0x08000231, True), (0x08000230, False)])
def test_cfi_step_rebuilds_xpsr_t_from_the_return_address(return_address, thumb):
    # GDB arm_dwarf2_prev_register: the T bit (24) follows bit 0 of the return address.
    memory = Memory([ram(MSP_TOP - 8, 0, return_address)])
    xpsr = 0x21000003 if not thumb else 0x20000003
    frame = frame0(WORKER.start + 8, sp=MSP_TOP - 8, xpsr=xpsr, lr=1)

    parent = cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR), memory)

    assert parent.registers["xpsr"] == (0x21000003 if thumb else 0x20000003)
    assert parent.pc == 0x08000230


def test_an_exc_return_value_in_lr_makes_an_exception_frame():
    memory = Memory([ram(MSP_TOP - 8, 0, 0xFFFFFFFD)])
    frame = frame0(HANDLER.start + 4, sp=MSP_TOP - 8, lr=0xFFFFFFFD)

    parent = cfi_step(frame, fde_for(HANDLER, *PUSH_R4_LR), memory)

    assert parent.pc == 0xFFFFFFFD  # kept whole: bit 0 is part of the magic value
    assert parent.exception


def test_an_undefined_return_address_is_the_outermost_frame():
    frame = frame0(TASK.start + 4, sp=PSP_TOP, lr=0x0800_0101)

    with pytest.raises(Outermost):
        cfi_step(frame, fde_for(TASK, undefined(LR)), Memory([]))


def test_a_register_the_cfa_needs_is_named_when_it_is_unknown():
    frame = caller(TASK.start + 4, sp=PSP_TOP, lr=0x0800_0101)  # r7 was not recovered

    with pytest.raises(MissingRegister, match="computed from r7"):
        cfi_step(frame, fde_for(TASK, def_cfa(R7, 8)), Memory([]))


def test_an_undefined_register_other_than_the_return_address_is_unknown_in_the_caller():
    memory = Memory([ram(MSP_TOP - 8, 0x4444, TASK.start + 0x31)])
    frame = frame0(WORKER.start + 8, sp=MSP_TOP - 8, r5=0x55, lr=1)

    parent = cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR, undefined(5)), memory)

    assert "r5" not in parent.registers


def test_a_caller_frame_uses_the_row_at_its_return_address_minus_one():
    # A call as the last instruction before a row change: the return address already
    # belongs to the next row (GDB get_frame_address_in_block, reference 2.2).
    instructions = (def_cfa(SP, 8), saved(LR, 1), b"\x42", def_cfa(SP, 16))  # row at +4
    memory = Memory([ram(MSP_TOP - 16, 0, 0, 0, TASK.start + 0x41)])
    at = WORKER.start + 4

    as_caller = cfi_step(caller(at, sp=MSP_TOP - 8), fde_for(WORKER, *instructions), memory)
    as_frame0 = cfi_step(frame0(at, sp=MSP_TOP - 16), fde_for(WORKER, *instructions), memory)

    assert as_caller.registers["sp"] == MSP_TOP
    assert as_frame0.registers["sp"] == MSP_TOP


def test_the_banked_stack_pointer_in_use_moves_with_sp():
    memory = Memory([ram(PSP_TOP - 8, 0, TASK.start + 0x31)])
    frame = frame0(WORKER.start + 8, sp=PSP_TOP - 8, psp=PSP_TOP - 8, msp=MSP_TOP, lr=1)

    parent = cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR), memory)

    assert (parent.registers["psp"], parent.registers["msp"]) == (PSP_TOP, MSP_TOP)


def test_an_uncaptured_save_slot_ends_the_step_with_the_address():
    frame = frame0(WORKER.start + 8, sp=MSP_TOP - 8, lr=1)

    with pytest.raises(NoStep, match="0x20000ff8"):
        cfi_step(frame, fde_for(WORKER, *PUSH_R4_LR), Memory([]))


# -- the loop: frames and stop reasons ---------------------------------------------------------


def test_it_unwinds_through_an_exception_to_the_outermost_frame():
    # HardFault_Handler on MSP interrupted task on PSP, whose CFI ends the stack. The PSP
    # frames are below the MSP ones: no "inner frame" complaint across the exception.
    index = FakeIndex(
        [HANDLER, TASK],
        [fde_for(HANDLER, *PUSH_R4_LR), fde_for(TASK, undefined(LR))],
    )
    memory = Memory([ram(MSP_TOP - 8, 0x4444, 0xFFFFFFFD), ram(PSP_TOP - 0x20, *STACKED)])
    registers = {"pc": HANDLER.start + 4, "sp": MSP_TOP - 8, "lr": 0xFFFFFFFD}
    registers |= {"msp": MSP_TOP - 8, "psp": PSP_TOP - 0x20}

    result = unwinder.unwind(registers, memory, index)

    assert [f.pc for f in result.frames] == [HANDLER.start + 4, 0xFFFFFFFD, TASK.start + 0x20]
    assert [f.how for f in result.frames] == [How.CONTEXT, How.CFI, How.EXCEPTION]
    assert result.stop.reason == "outermost frame: the return address is undefined"
    assert result.stop.clean


def test_it_stops_when_the_previous_frame_is_identical():
    # No rule moves SP and LR returns into the same function at the same pc.
    index = FakeIndex([WORKER], [fde_for(WORKER)])
    pc = WORKER.start + 0x10
    registers = {"pc": pc, "sp": MSP_TOP, "lr": pc | 1}

    result = unwinder.unwind(registers, Memory([]), index)

    assert len(result.frames) == 1
    assert result.stop.reason == "previous frame identical to this frame (corrupt stack?)"
    assert not result.stop.clean


def test_it_stops_when_the_previous_frame_is_inner():
    index = FakeIndex([WORKER, TASK], [fde_for(WORKER, def_cfa(R7, 0))])
    registers = {"pc": WORKER.start + 4, "sp": MSP_TOP, "r7": MSP_TOP - 0x40}
    registers["lr"] = TASK.start + 0x11

    result = unwinder.unwind(registers, Memory([]), index)

    assert len(result.frames) == 1
    assert result.stop.reason == "previous frame inner to this frame (corrupt stack?)"


def test_it_stops_after_the_frame_cap():
    # Unbounded recursion: every frame returns into worker 8 bytes further up.
    index = FakeIndex([WORKER], [fde_for(WORKER, *PUSH_R4_LR)])
    stack = [value for _ in range(16) for value in (0, WORKER.start + 0x41)]
    memory = Memory([ram(MSP_TOP - 0x80, *stack)])
    registers = {"pc": WORKER.start + 8, "sp": MSP_TOP - 0x80, "lr": 1}

    result = unwinder.unwind(registers, memory, index, max_frames=5)

    assert len(result.frames) == 5
    assert result.stop.reason == "stopped after 5 frames"
    assert not result.stop.clean


def test_it_stops_after_a_zero_return_address():
    index = FakeIndex([WORKER], [fde_for(WORKER, *PUSH_R4_LR)])
    memory = Memory([ram(MSP_TOP - 8, 0, 0)])
    registers = {"pc": WORKER.start + 8, "sp": MSP_TOP - 8, "lr": 1}

    result = unwinder.unwind(registers, memory, index)

    assert [f.pc for f in result.frames] == [WORKER.start + 8, 0]  # GDB shows the 0 frame
    assert result.stop.reason == "the return address is zero"


def test_a_zero_pc_in_frame_0_is_unwound_through_lr():
    # A call through a NULL function pointer: frame 0 is at 0, LR knows the caller.
    index = FakeIndex([TASK], [fde_for(TASK, undefined(LR))])
    registers = {"pc": 0, "sp": MSP_TOP, "lr": TASK.start + 0x11}

    result = unwinder.unwind(registers, Memory([]), index)

    assert [f.pc for f in result.frames] == [0, TASK.start + 0x10]
    assert result.frames[1].how == How.LR


@pytest.mark.parametrize(
    ("function", "reason"),
    [(MAIN, "reached main"), (RESET, "reached the reset handler")],
)
def test_it_stops_cleanly_at_main_and_at_the_reset_handler(function, reason):
    index = FakeIndex([WORKER, MAIN, RESET], [fde_for(WORKER, *PUSH_R4_LR)], entry=RESET.start)
    memory = Memory([ram(MSP_TOP - 8, 0, function.start + 0x11)])
    registers = {"pc": WORKER.start + 8, "sp": MSP_TOP - 8, "lr": 1}

    result = unwinder.unwind(registers, memory, index)

    assert [f.pc for f in result.frames] == [WORKER.start + 8, function.start + 0x10]
    assert (result.stop.reason, result.stop.clean) == (reason, True)


def test_it_stops_at_a_lockup_pc_in_frame_0():
    # GDB arm_m_addr_is_lockup: "ARM M in lockup state, stack unwinding terminated".
    index = FakeIndex([TASK], [fde_for(TASK, undefined(LR))])
    registers = {"pc": 0xEFFFFFFE, "sp": MSP_TOP, "lr": TASK.start + 0x11}

    result = unwinder.unwind(registers, Memory([]), index)

    assert len(result.frames) == 1
    assert result.stop.reason == "the core was in lockup"


def test_it_stops_at_a_lockup_return_address():
    # GDB arm_m_exception_cache: a lockup pc in an outer frame "is just a sentinel at the
    # top of stack", and unwinding terminates there too (without the warning).
    index = FakeIndex([WORKER, TASK], [fde_for(WORKER, *PUSH_R4_LR)])
    stale = TASK.start + 0x11  # a word the stack scan would otherwise try
    memory = Memory([ram(MSP_TOP - 8, 0, 0xFFFFFFFF, stale, stale)])
    registers = {"pc": WORKER.start + 8, "sp": MSP_TOP - 8, "lr": 1}

    result = unwinder.unwind(registers, memory, index)

    assert len(result.frames) == 2
    assert result.stop.reason == "the core was in lockup"


# -- fallbacks without CFI (cortex-m-unwinding.md 2.5) -----------------------------------------

# movs r0, #1; bx lr; then push {r4, lr}; movs r0, #0 (assembled with arm-none-eabi-as).
LEAF_CODE = bytes.fromhex("0120 7047")
PUSHING_CODE = bytes.fromhex("10b5 0020")


def code(function: Function, data: bytes) -> Span:
    return Span(function.start, data, SOURCE_ELF)


def test_a_leaf_without_cfi_returns_through_lr_in_the_innermost_frame():
    index = FakeIndex([WORKER])
    memory = Memory([], [code(WORKER, LEAF_CODE)])

    parent = unwinder.step(
        frame0(WORKER.start + 2, sp=MSP_TOP, lr=TASK.start + 0x11), memory, index
    )

    assert (parent.pc, parent.how) == (TASK.start + 0x10, How.LEAF)
    assert parent.registers["sp"] == MSP_TOP


def test_a_leaf_without_cfi_above_the_innermost_frame_has_lost_its_return_address():
    index = FakeIndex([WORKER])
    memory = Memory([], [code(WORKER, LEAF_CODE)])

    with pytest.raises(NoStep, match="keeps its return address in LR"):
        unwinder.step(caller(WORKER.start + 3, sp=MSP_TOP, lr=TASK.start + 0x11), memory, index)


def test_a_function_without_cfi_is_unwound_by_its_prologue():
    index = FakeIndex([WORKER])
    memory = Memory([ram(MSP_TOP - 8, 0x4444, TASK.start + 0x11)], [code(WORKER, PUSHING_CODE)])

    parent = unwinder.step(caller(WORKER.start + 4, sp=MSP_TOP - 8, lr=1), memory, index)

    assert (parent.pc, parent.how) == (TASK.start + 0x10, How.PROLOGUE)
    assert (parent.registers["sp"], parent.registers["r4"]) == (MSP_TOP, 0x4444)


def test_a_pc_in_no_function_falls_back_to_lr_for_the_innermost_frame():
    # GDB's stub unwinder for a wild jump: prev pc = LR, prev sp = sp (reference 1.8).
    frame = frame0(0x30000000, sp=MSP_TOP, lr=TASK.start + 0x11)

    parent = unwinder.step(frame, Memory([]), FakeIndex([TASK]))

    assert (parent.pc, parent.how, parent.registers["sp"]) == (
        TASK.start + 0x10,
        How.LR,
        MSP_TOP,
    )


def test_a_return_address_in_no_function_ends_the_unwind():
    # GDB shows the frame (0x30000000 in ?? ()) and stops: it has no way to step out of it.
    memory = Memory([ram(MSP_TOP, 0x1234, TASK.start + 0x15)])

    with pytest.raises(NoStep, match="the return address 0x30000000 is in no known function"):
        unwinder.step(caller(0x30000000, sp=MSP_TOP, lr=1), memory, FakeIndex([TASK, WORKER]))


def test_an_interrupted_pc_in_no_function_without_lr_falls_back_to_a_stack_scan():
    # bl worker at task+0x10 (f000 f876, checked with capstone), so task+0x15 is a return
    # address; with the callee unknown any call is accepted. 0x1234 is even: not one.
    bl_to_worker = bytes.fromhex("00f0 76f8")
    index = FakeIndex([TASK, WORKER])
    memory = Memory(
        [ram(MSP_TOP, 0x1234, TASK.start + 0x15)],
        [Span(TASK.start + 0x10, bl_to_worker, SOURCE_ELF)],
    )
    jumped = frame0(0x30000000, sp=MSP_TOP)  # a branch to garbage; LR not known

    parent = unwinder.step(jumped, memory, index)

    assert (parent.pc, parent.how) == (TASK.start + 0x14, How.STACK_SCAN)
    assert parent.registers["sp"] == MSP_TOP + 8


def test_without_any_way_to_step_the_reason_is_given():
    jumped = frame0(0x30000000, sp=MSP_TOP)  # a branch to garbage; LR not known

    with pytest.raises(NoStep, match="no return address found on the stack"):
        unwinder.step(jumped, Memory([ram(MSP_TOP, 0, 0)]), FakeIndex())


# -- a failed exception entry push ----------------------------------------------------------


def test_unstacked_mode_drops_the_registers_the_core_failed_to_push():
    registers = {name: 0xBAD for name in ("r0", "r1", "r2", "r3", "r12", "lr", "xpsr")}
    registers |= {"pc": 0x30000000, "sp": MSP_TOP, "r4": 0x44, "r7": 0x77}
    reason = "MSTKERR: the core could not stack the exception frame"

    result = unwinder.unwind(registers, Memory([]), FakeIndex(), unstacked=reason)

    kept = result.frames[0].registers
    assert sorted(kept) == ["pc", "r4", "r7", "sp"]
    assert result.frames[0].hint.startswith("registers not stacked (MSTKERR)")
    assert "no return address found on the stack" in result.stop.reason


# -- a CFA that needs a register the dump lacks (zephyr-coredumps-in-practice.md) ----------

BL_TO_WORKER = Span(TASK.start + 0x10, bytes.fromhex("00f0 76f8"), SOURCE_ELF)  # bl worker
R7_BASED = (def_cfa(R7, 8), saved(R7, 2), saved(LR, 1))  # -O0: CFA = r7 + 8


def test_prologue_analysis_takes_over_where_the_cfa_needs_a_missing_r7():
    index = FakeIndex([WORKER], [fde_for(WORKER, *R7_BASED)])
    memory = Memory([ram(MSP_TOP - 8, 0x4444, TASK.start + 0x11)], [code(WORKER, PUSHING_CODE)])

    parent = unwinder.step(caller(WORKER.start + 4, sp=MSP_TOP - 8, lr=1), memory, index)

    assert (parent.pc, parent.how, parent.registers["sp"]) == (
        TASK.start + 0x10,
        How.PROLOGUE,
        MSP_TOP,
    )
    assert parent.hint == "prologue analysis (r7, which the CFI needs, is unknown)"


def test_the_return_address_scan_takes_over_where_prologue_analysis_cannot():
    index = FakeIndex([TASK, WORKER], [fde_for(WORKER, *R7_BASED)])
    memory = Memory(
        [ram(MSP_TOP, 0x1234, TASK.start + 0x15)], [code(WORKER, LEAF_CODE), BL_TO_WORKER]
    )

    parent = unwinder.step(caller(WORKER.start + 3, sp=MSP_TOP, lr=1), memory, index)

    assert (parent.pc, parent.how, parent.registers["sp"]) == (
        TASK.start + 0x14,
        How.STACK_SCAN,
        MSP_TOP + 8,
    )
    assert parent.hint == "stack scan (r7, which the CFI needs, is unknown)"


def test_it_stops_where_no_heuristic_is_sound_and_says_what_each_lacked():
    index = FakeIndex([TASK, WORKER], [fde_for(WORKER, *R7_BASED)])
    memory = Memory([ram(MSP_TOP, 0x1234, 0x5678)], [code(WORKER, LEAF_CODE)])

    with pytest.raises(NoStep) as stopped:
        unwinder.step(caller(WORKER.start + 3, sp=MSP_TOP, lr=1), memory, index)

    assert str(stopped.value) == (
        "the CFA is computed from r7, which is not known here; "
        "worker keeps its return address in LR, which is lost here; "
        "no return address found on the stack"
    )

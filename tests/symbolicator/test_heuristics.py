"""Unwinding without CFI: prologue analysis and the stack scan, on real Thumb-2 encodings.

cortex-m-unwinding.md 2.5: GDB's thumb_analyze_prologue scans at most 64 bytes from the
function start and never past the pc; the stack scan accepts a word only when the
instruction before it is a call, and (the recommendation there) only a call to the function
of the frame below. Every encoding was assembled with arm-none-eabi-as 2.40 (-mcpu=cortex-m4)
and checked with arm-none-eabi-objdump; the bytes are written here, not the toolchain.
"""

from __future__ import annotations

import pytest

from symbolicator.cfi import Cie, Fde
from symbolicator.index.functions import Function
from symbolicator.memory import SOURCE_COREDUMP, SOURCE_ELF, Memory, Span
from symbolicator.unwind import heuristics, unwinder
from symbolicator.unwind.frame import How, UnwoundFrame
from symbolicator.unwind.heuristics import analyze_prologue, is_after_call
from symbolicator.unwind.registers import RegisterValues
from symbolicator.unwind.steps import NoStep
from tests.symbolicator.fake_index import FakeIndex

FLASH = 0x08000000
START = FLASH + 0x100

PUSH_R4_R7_LR = "90b5"  # push {r4, r7, lr}
PUSH_R4_LR = "10b5"  # push {r4, lr}
PUSH_W_R4_R11_LR = "2de9f04f"  # push.w {r4-r11, lr} (stmdb sp!, {r4, ..., fp, lr})
SUB_SP_16 = "84b0"  # sub sp, #16
SUB_W_SP_512 = "adf5007d"  # sub.w sp, sp, #512
VPUSH_D8_D9 = "2ded048b"  # vpush {d8-d9}
ADD_R7_SP_0 = "00af"  # add r7, sp, #0
MOV_R7_SP = "6f46"  # mov r7, sp
CBZ_R0 = "00b1"  # cbz r0, .+4
PUSH_R4 = "10b4"  # push {r4}
BX_LR = "7047"  # bx lr
BLX_R3 = "9847"  # blx r3
BX_R3 = "1847"  # bx r3
MOV_R0_R1 = "0846"  # mov r0, r1
BL_BACKWARDS = "fff7f6fe"  # bl .-0x210
STR_W_LR_PRE = "4df804ed"  # push.w {lr}, assembled as str.w lr, [sp, #-4]!
PUSH_R4_R5_LR = "2de93040"  # stmdb sp!, {r4, r5, lr}


def flash(at: int, *instructions: str) -> Memory:
    return Memory([], [Span(at, bytes.fromhex("".join(instructions)), SOURCE_ELF)])


# -- analyze_prologue ---------------------------------------------------------------------


def test_push_saves_registers_below_the_entry_sp_in_register_order():
    memory = flash(START, PUSH_R4_R7_LR, ADD_R7_SP_0)

    prologue = analyze_prologue(memory, START, START + 4)

    assert prologue.stack_size == 12
    assert prologue.saved == {"r4": -12, "r7": -8, "lr": -4}
    assert prologue.saved_lr


def test_push_w_saves_r4_to_r11_and_lr_with_gdbs_register_names():
    # capstone calls r9-r11 sb, sl and fp (reference 2.5); the prologue uses r9-r11.
    memory = flash(START, PUSH_W_R4_R11_LR)

    prologue = analyze_prologue(memory, START, START + 4)

    assert prologue.stack_size == 36
    assert prologue.saved == {f"r{n}": -36 + 4 * (n - 4) for n in range(4, 12)} | {"lr": -4}


def test_sub_sp_adds_to_the_frame_without_saving_anything():
    memory = flash(START, PUSH_R4_R7_LR, SUB_SP_16, SUB_W_SP_512)

    prologue = analyze_prologue(memory, START, START + 8)

    assert prologue.stack_size == 12 + 16 + 512
    assert prologue.saved["lr"] == -4


def test_vpush_of_d_registers_moves_sp_by_8_bytes_each():
    memory = flash(START, PUSH_W_R4_R11_LR, VPUSH_D8_D9, SUB_SP_16, MOV_R7_SP)

    prologue = analyze_prologue(memory, START, START + 12)

    assert prologue.stack_size == 36 + 16 + 16
    assert prologue.saved["lr"] == -4


def test_the_prologue_ends_at_the_first_branch():
    # push {r4, lr}; cbz r0; push {r4}: the second push may not run.
    memory = flash(START, PUSH_R4_LR, CBZ_R0, PUSH_R4, BX_LR)

    prologue = analyze_prologue(memory, START, START + 8)

    assert prologue.stack_size == 8
    assert prologue.saved == {"r4": -8, "lr": -4}


def test_the_prologue_ends_at_a_call():
    memory = flash(START, PUSH_R4_R7_LR, BL_BACKWARDS, SUB_SP_16)

    assert analyze_prologue(memory, START, START + 8).stack_size == 12


def test_the_prologue_is_never_simulated_past_the_pc():
    memory = flash(START, PUSH_R4_R7_LR, SUB_SP_16)

    assert analyze_prologue(memory, START, START + 2).stack_size == 12
    assert analyze_prologue(memory, START, START).stack_size == 0
    assert analyze_prologue(memory, START, START).saved == {}


def test_the_prologue_scan_stops_after_64_bytes():
    # 40 x sub sp, #4 (b081): only the first 32 (64 bytes) count, as thumb_scan_prologue.
    memory = flash(START, "81b0" * 40)

    prologue = analyze_prologue(memory, START, START + 80)

    assert prologue.stack_size == 32 * 4
    assert heuristics.PROLOGUE_LIMIT == 64


def test_a_pre_indexed_store_to_sp_is_a_push():
    memory = flash(START, STR_W_LR_PRE, PUSH_R4_R5_LR)

    prologue = analyze_prologue(memory, START, START + 8)

    assert prologue.stack_size == 16
    assert prologue.saved == {"lr": -4, "r4": -16, "r5": -12}


def test_a_function_whose_code_was_not_captured_cannot_be_analysed():
    frame = UnwoundFrame(
        pc=WORKER.start + 4, registers=RegisterValues(sp=SP, lr=1), hint="", how=How.CFI
    )

    with pytest.raises(NoStep, match="the code of worker cannot be read"):
        unwinder.step(frame, Memory([]), index_of_three())


# -- is_after_call --------------------------------------------------------------------------

CALLER = FLASH + 0x400
TASK = Function("task", FLASH + 0x200, FLASH + 0x280)
WORKER = Function("worker", FLASH + 0x300, FLASH + 0x380)
MAIN = Function("main", CALLER, CALLER + 0x80)

# At main+0x10: bl task; at main+0x20: bl worker; at main+0x30: blx r3; at main+0x40: bx r3.
MAIN_CODE = {
    0x10: "fff7f6fe",  # bl 0x08000200
    0x20: "fff76eff",  # bl 0x08000300
    0x30: BLX_R3,
    0x40: BX_R3,
    0x50: MOV_R0_R1,
}


def main_memory(captured: list[Span] = ()) -> Memory:
    spans = [Span(CALLER + at, bytes.fromhex(hexa), SOURCE_ELF) for at, hexa in MAIN_CODE.items()]
    return Memory(captured, spans)


def test_a_return_address_after_bl_gives_the_call_target():
    assert is_after_call(main_memory(), CALLER + 0x15) == TASK.start
    assert is_after_call(main_memory(), CALLER + 0x25) == WORKER.start


def test_a_return_address_after_blx_register_is_a_call_to_an_unknown_target():
    assert is_after_call(main_memory(), CALLER + 0x33) == -1


@pytest.mark.parametrize("after", [0x43, 0x53])
def test_a_return_address_after_anything_else_is_not_a_call(after):
    # bx r3 shares 0x47xx with blx r3 (the CmBacktrace trap in reference 2.5).
    assert is_after_call(main_memory(), CALLER + after) is None


def test_code_that_cannot_be_read_is_not_a_call():
    assert is_after_call(main_memory(), FLASH + 0x9001) is None


# -- the stack scan ---------------------------------------------------------------------------

SP = 0x20000F00
GCC_CIE = Cie(0, 1, 2, -4, 14, b"\x0c\x0d\x00")  # CFA = r13 + 0


def index_of_three(fdes: list[Fde] = ()) -> FakeIndex:
    return FakeIndex([TASK, WORKER, MAIN], list(fdes))


def scanned_frame_in_worker() -> UnwoundFrame:
    """A frame found by scanning, in worker, whose CFI needs r7 (an -O0 frame pointer):
    the unwinder has to scan on, now knowing the callee is worker."""
    pc = WORKER.start + 0x10
    return UnwoundFrame(pc=pc, registers=RegisterValues(sp=SP, pc=pc), hint="", how=How.STACK_SCAN)


def test_the_stack_scan_skips_a_stale_return_address_from_a_call_to_another_function():
    r7_frame = Fde(0, GCC_CIE, WORKER.start, WORKER.end, b"\x0d\x07")  # def_cfa_register r7
    stack = Span(
        SP,
        b"".join(
            v.to_bytes(4, "little")
            for v in (
                CALLER + 0x15,  # returns from bl task: left over from an earlier call
                CALLER + 0x24,  # even: not a Thumb return address
                0x30000001,  # odd, but in no function
                CALLER + 0x25,  # returns from bl worker: the real caller
            )
        ),
        SOURCE_COREDUMP,
    )
    index = index_of_three([r7_frame])

    parent = unwinder.step(scanned_frame_in_worker(), main_memory([stack]), index)

    assert (parent.pc, parent.how) == (CALLER + 0x24, How.STACK_SCAN)
    assert parent.registers["sp"] == SP + 16


def test_the_stack_scan_accepts_a_call_through_a_register_for_any_callee():
    stack = Span(
        SP,
        (CALLER + 0x15).to_bytes(4, "little") + (CALLER + 0x33).to_bytes(4, "little"),
        SOURCE_COREDUMP,
    )
    r7_frame = Fde(0, GCC_CIE, WORKER.start, WORKER.end, b"\x0d\x07")

    parent = unwinder.step(
        scanned_frame_in_worker(), main_memory([stack]), index_of_three([r7_frame])
    )

    assert parent.pc == CALLER + 0x32
    assert parent.registers["sp"] == SP + 8

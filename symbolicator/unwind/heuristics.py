"""Unwinding without CFI: prologue analysis, then a bounded stack scan.

Hand-written assembly and libraries built without -g have no FDE. GDB then
simulates the function's prologue (arm-tdep.c thumb_analyze_prologue); so do
we, with capstone decoding the instructions. When not even the function is
known, return addresses are searched for on the stack: words that point just
after a BL or BLX, which is the classic heuristic, labelled as a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import arm_const

from symbolicator.errors import UnreadableMemory

PROLOGUE_LIMIT = 64  # bytes, as GDB's thumb_scan_prologue
SCAN_WORDS = 512

_disassembler = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_disassembler.detail = True

REGISTER_NAMES = {arm_const.ARM_REG_R0 + n: f"r{n}" for n in range(13)} | {
    arm_const.ARM_REG_SB: "r9",
    arm_const.ARM_REG_SL: "r10",
    arm_const.ARM_REG_FP: "r11",
    arm_const.ARM_REG_IP: "r12",
    arm_const.ARM_REG_LR: "lr",
    arm_const.ARM_REG_SP: "sp",
    arm_const.ARM_REG_PC: "pc",
}


@dataclass
class Prologue:
    """What a function's prologue did before `pc`: SP adjustment and saved registers."""

    stack_size: int  # bytes the prologue moved SP down
    saved: dict[str, int]  # register -> offset from the entry SP (negative)

    @property
    def saved_lr(self) -> bool:
        return "lr" in self.saved


def analyze_prologue(memory, start: int, pc: int) -> Prologue:
    """Simulate push / stmdb sp! / vpush / sub sp from `start` up to `pc` (at most 64 bytes)."""
    end = min(pc, start + PROLOGUE_LIMIT)
    prologue = Prologue(0, {})
    if end <= start:
        return prologue
    code = memory.read(start, end - start)
    for instruction in _disassembler.disasm(code, start):
        if not _apply(prologue, instruction):
            break
    return prologue


def _apply(prologue: Prologue, instruction) -> bool:
    """Account for one instruction; False at the first one that ends the prologue."""
    mnemonic = instruction.mnemonic.split(".")[0]
    if mnemonic in ("push", "stmdb") and _writes_sp(instruction):
        registers = [
            REGISTER_NAMES.get(op.reg)
            for op in instruction.operands
            if op.type == arm_const.ARM_OP_REG
        ]
        registers = [r for r in registers if r and r != "sp"]
        for index, name in enumerate(registers):
            # The first save holds the caller's value; a later one may not.
            prologue.saved.setdefault(name, -prologue.stack_size - 4 * (len(registers) - index))
        prologue.stack_size += 4 * len(registers)
        return True
    if mnemonic == "str" and _pushes_one_register(instruction):
        # push.w {rt} is encoded as str.w rt, [sp, #-4]! (ARMv7-M ARM A7.7.99, T3).
        prologue.stack_size += 4
        register = REGISTER_NAMES.get(instruction.operands[0].reg)
        prologue.saved.setdefault(register, -prologue.stack_size)
        return True
    if mnemonic == "vpush":
        count = sum(1 for op in instruction.operands if op.type == arm_const.ARM_OP_REG)
        width = 8 if instruction.op_str.startswith("{d") else 4
        prologue.stack_size += width * count
        return True
    if mnemonic in ("sub", "subw") and _is_sp_adjust(instruction):
        prologue.stack_size += instruction.operands[-1].imm
        return True
    # Moves and stores that set up locals do not end a prologue, branches do.
    return mnemonic in ("mov", "movs", "str", "strd", "add", "adds", "movw", "movt", "ldr")


def _pushes_one_register(instruction) -> bool:
    operands = instruction.operands
    if not instruction.writeback or len(operands) != 2 or operands[1].type != arm_const.ARM_OP_MEM:
        return False
    return operands[1].mem.base == arm_const.ARM_REG_SP and operands[1].mem.disp == -4


def _writes_sp(instruction) -> bool:
    if instruction.mnemonic.startswith("push"):
        return True
    first = instruction.operands[0] if instruction.operands else None
    return (
        first is not None
        and first.type == arm_const.ARM_OP_REG
        and first.reg == arm_const.ARM_REG_SP
    )


def _is_sp_adjust(instruction) -> bool:
    operands = instruction.operands
    return (
        len(operands) >= 2
        and operands[0].type == arm_const.ARM_OP_REG
        and operands[0].reg == arm_const.ARM_REG_SP
        and operands[-1].type == arm_const.ARM_OP_IMM
    )


def is_after_call(memory, return_address: int) -> int | None:
    """If the instruction before `return_address` is a BL or BLX, return its target (or -1
    for BLX to a register); else None (cortex-m-unwinding.md 2.5, stack scanning)."""
    address = return_address & ~1
    for size in (4, 2):
        try:
            code = memory.read(address - size, size)
        except UnreadableMemory:
            continue
        for instruction in _disassembler.disasm(code, address - size):
            if instruction.size == size and instruction.mnemonic in ("bl", "blx"):
                operand = instruction.operands[0]
                return operand.imm if operand.type == arm_const.ARM_OP_IMM else -1
    return None

"""Thumb-2 disassembly around a pc, with source line markers and named branch targets."""

from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import arm_const

from symbolicator.errors import UnreadableMemory

_disassembler = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_disassembler.detail = True
WINDOW = 256  # bytes read before the pc to find instruction boundaries


@dataclass
class Instruction:
    address: int
    encoding: str  # hex bytes
    mnemonic: str
    operands: str
    is_pc: bool = False
    target: int | None = None  # a branch's destination
    target_name: str | None = None  # "<function+offset>"
    source: str | None = None  # "file:line" where the line changes from the previous instruction
    data: bool = False  # a literal pool word, shown as .word


def disassemble(
    index, memory, pc: int, before: int = 12, after: int = 12, symbolize=None
) -> list[Instruction]:
    """About `before` instructions before `pc` and `after` from it.

    Decoding starts at the function's entry (or a bounded window before the pc) so
    instruction boundaries are right; literal pools ($d mapping symbols) become .word.
    """
    function = index.function_at(pc)
    start = max(function.start if function else pc - WINDOW, pc - WINDOW)
    found = _decode(index, memory, start, pc + 4 * after + 8)
    position = next((n for n, i in enumerate(found) if i.address >= pc), len(found))
    window = found[max(0, position - before) : position + after]
    _annotate(window, pc, index, symbolize)
    return window


def _decode(index, memory, start: int, end: int) -> list[Instruction]:
    out, address = [], start
    while address < end:
        if index.is_data_in_code(address):
            out.append(_word(memory, address))
            address += 4
            continue
        decoded = _one(memory, address)
        if decoded is None:
            break
        out.append(decoded)
        address += len(decoded.encoding) // 2
    return out


def _one(memory, address: int) -> Instruction | None:
    try:
        code = memory.read(address, 4)
    except UnreadableMemory:
        try:
            code = memory.read(address, 2)
        except UnreadableMemory:
            return None
    for insn in _disassembler.disasm(code, address, count=1):
        return Instruction(
            insn.address, insn.bytes.hex(), insn.mnemonic, insn.op_str, target=_branch_target(insn)
        )
    return Instruction(
        address, code[:2].hex(), ".short", f"0x{int.from_bytes(code[:2], 'little'):04x}"
    )


def _word(memory, address: int) -> Instruction:
    try:
        value = memory.read_u32(address)
        return Instruction(address, f"{value:08x}", ".word", f"0x{value:08x}", data=True)
    except UnreadableMemory:
        return Instruction(address, "", ".word", "<not captured>", data=True)


def _branch_target(insn) -> int | None:
    if not (insn.group(capstone.CS_GRP_JUMP) or insn.group(capstone.CS_GRP_CALL)):
        return None
    operand = insn.operands[-1] if insn.operands else None
    if operand is not None and operand.type == arm_const.ARM_OP_IMM:
        return operand.imm & 0xFFFFFFFF
    return None


def _annotate(window: list[Instruction], pc: int, index, symbolize) -> None:
    previous = None
    for instruction in window:
        instruction.is_pc = instruction.address == pc
        if instruction.target is not None and symbolize is not None:
            instruction.target_name = symbolize(instruction.target)
        line = index.line_at(instruction.address)
        where = f"{line[0]}:{line[1]}" if line else None
        if where != previous:
            instruction.source = where
        previous = where

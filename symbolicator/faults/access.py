"""Was the faulting access a read, a write or an instruction fetch?

The fault registers only say *that* an access failed. For precise data
faults the stacked PC is the faulting load or store (cortex-m-unwinding.md
1.3), so decoding that one instruction (capstone, Thumb, M-class) tells the
direction. For the other causes the architecture itself fixes it.
"""

from __future__ import annotations

import capstone

from symbolicator.errors import UnreadableMemory
from symbolicator.faults.model import Access

_disassembler = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)

# Causes whose faulting instruction is a load or store at the stacked PC.
DECODED_CAUSES = {"DACCVIOL", "PRECISERR", "UNALIGNED", "AUVIOL"}

# Causes whose direction the architecture fixes (ARMv7-M ARM B1.5.6 "Exception
# entry behavior" stacks, B1.5.8 "Exception return behavior" unstacks; the
# lazy FP bits of B3.2.15 are the deferred stacking of S0-S15).
FIXED_ACCESS = {
    "IACCVIOL": (Access.EXECUTE, "instruction fetch"),
    "IBUSERR": (Access.EXECUTE, "instruction fetch"),
    "IMPRECISERR": (Access.WRITE, "imprecise bus errors come from buffered writes"),
    "MSTKERR": (Access.WRITE, "stacking on exception entry"),
    "STKERR": (Access.WRITE, "stacking on exception entry"),
    "MLSPERR": (Access.WRITE, "lazy floating-point state preservation"),
    "LSPERR": (Access.WRITE, "lazy floating-point state preservation"),
    "MUNSTKERR": (Access.READ, "unstacking on exception return"),
    "UNSTKERR": (Access.READ, "unstacking on exception return"),
    "VECTTBL": (Access.READ, "vector table read"),
    "INVEP": (Access.EXECUTE, "branch into Secure code"),
}

# Mnemonic prefixes of Thumb loads and stores (capstone spells them lower-case,
# with ".w" and condition suffixes, e.g. "str.w", "ldrbeq").
_WRITES = ("str", "stm", "stl", "stc", "push", "vstr", "vstm", "vpush")
_READS = ("ldr", "ldm", "lda", "ldc", "pop", "vldr", "vldm", "vpop", "tbb", "tbh")


def access_of(cause: str | None, memory, pc: int | None, pc_trusted: bool) -> tuple[Access, str]:
    """(access, how we know) for the primary cause bit."""
    if cause in FIXED_ACCESS:
        return FIXED_ACCESS[cause]
    if cause not in DECODED_CAUSES:
        return Access.NONE, ""
    if pc is None or not pc_trusted:
        return Access.UNKNOWN, "stacked PC not trusted"
    mnemonic = instruction_at(memory, pc)
    if mnemonic is None:
        return Access.UNKNOWN, f"no instruction readable at 0x{pc:08x}"
    return direction_of(mnemonic), f"decoded {mnemonic!r} at 0x{pc:08x}"


def instruction_at(memory, pc: int) -> str | None:
    """Mnemonic of the Thumb instruction at `pc`, read through the one memory reader."""
    address = pc & ~1
    for size in (4, 2):  # a 16-bit instruction may end a section
        try:
            code = memory.read(address, size)
        except UnreadableMemory:
            continue
        for instruction in _disassembler.disasm(code, address, count=1):
            return instruction.mnemonic
    return None


def direction_of(mnemonic: str) -> Access:
    if mnemonic.startswith(_WRITES):
        return Access.WRITE
    if mnemonic.startswith(_READS):
        return Access.READ
    return Access.UNKNOWN

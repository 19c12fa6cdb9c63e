"""Cortex-M exception entry and return, as unwinding needs them.

References: ARMv7-M ARM B1.5.6-B1.5.8 (exception entry, EXC_RETURN), ARMv8-M
ARM D1.2 (security extension); cortex-m-unwinding.md sections 1.2-1.7, which
follow GDB 13's arm_m_exception_cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.errors import UnreadableMemory
from symbolicator.memory import Memory

EXC_RETURN_PREFIX = 0xFF000000
FNC_RETURN = 0xFEFFFFFF
LOCKUP_VALUES = frozenset({0xEFFFFFFE, 0xFFFFFFFE, 0xFFFFFFFF})
XPSR_ALIGNED = 1 << 9  # the core skipped a word to 8-align the frame
XPSR_THUMB = 1 << 24
BASIC_FRAME_SIZE = 0x20
EXTENDED_FRAME_SIZE = 0x68
STACKED_REGISTERS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")
ADDITIONAL_STATE_SIZE = 0x28  # v8-M: integrity signature + r4-r11 below the state context


def is_exc_return(value: int) -> bool:
    """EXC_RETURN values all start 0xFF (B1.5.8); lockup values end unwinding instead."""
    return value & EXC_RETURN_PREFIX == EXC_RETURN_PREFIX and value not in LOCKUP_VALUES


@dataclass(frozen=True)
class ExcReturn:
    value: int

    @property
    def uses_psp(self) -> bool:
        return bool(self.value & 0x04)  # SPSEL

    @property
    def to_thread_mode(self) -> bool:
        return bool(self.value & 0x08)  # Mode

    @property
    def extended_frame(self) -> bool:
        return not self.value & 0x10  # FType = 0: FP state was stacked

    @property
    def secure_stack(self) -> bool:
        return bool(self.value & 0x40)  # v8-M S; reads as 1 on v7-M

    @property
    def default_callee_stacking(self) -> bool:
        return bool(self.value & 0x20)  # v8-M DCRS; reads as 1 on v7-M

    @property
    def secure_exception(self) -> bool:
        return bool(self.value & 0x01)  # v8-M ES; reads as 1 on v7-M

    @property
    def frame_size(self) -> int:
        return EXTENDED_FRAME_SIZE if self.extended_frame else BASIC_FRAME_SIZE

    def describe(self) -> str:
        stack = "PSP" if self.uses_psp else "MSP"
        frame = "FPU extended" if self.extended_frame else "basic"
        return f"exception frame ({stack}, {frame})"


@dataclass
class StackedContext:
    """What an exception frame restores: the interrupted code's registers."""

    registers: dict[str, int]
    frame_base: int
    sp_before: int  # the interrupted code's SP, above the frame
    fp_stacked: bool


def read_exception_frame(memory: Memory, exc: ExcReturn, base: int) -> StackedContext:
    """Read the 8- or 26-word frame at `base` (cortex-m-unwinding.md 1.7, steps 3-6).

    Raises UnreadableMemory when the frame was not captured.
    """
    r0_at = base
    registers: dict[str, int] = {}
    if exc.secure_stack and not (exc.default_callee_stacking and exc.secure_exception):
        # v8-M additional state context: signature, reserved, then r4-r11. A Non-secure
        # handler that interrupted Secure code finds it too (GDB arm_m_exception_cache).
        for n in range(8):
            registers[f"r{4 + n}"] = memory.read_u32(base + 8 + 4 * n)
        r0_at = base + ADDITIONAL_STATE_SIZE
    for offset, name in enumerate(STACKED_REGISTERS):
        registers[name] = memory.read_u32(r0_at + 4 * offset)
    if exc.extended_frame:
        for n in range(16):
            registers[f"s{n}"] = memory.read_u32(r0_at + 0x20 + 4 * n)
        registers["fpscr"] = memory.read_u32(r0_at + 0x60)
    stacked_pc = registers["pc"]
    registers["pc"] = stacked_pc & ~1
    sp_before = r0_at + exc.frame_size + (4 if registers["xpsr"] & XPSR_ALIGNED else 0)
    return StackedContext(registers, r0_at, sp_before, exc.extended_frame)


CFSR_ADDRESS = 0xE000ED28
CFSR_MSTKERR = 1 << 4  # MemManage fault on exception entry stacking
CFSR_STKERR = 1 << 12  # BusFault on exception entry stacking
# Registers the core pushes on exception entry (B1.5.6); with a failed push the
# fault handler read them from memory the core never wrote.
STACKED_BY_HARDWARE = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")


def stacking_failure(memory) -> str | None:
    """Why the exception frame of the fault was never written, from the captured CFSR."""
    try:
        cfsr = memory.read_u32(CFSR_ADDRESS)
    except UnreadableMemory:  # the device did not capture its fault registers
        return None
    if cfsr & CFSR_MSTKERR:
        return "MSTKERR: the core could not stack the exception frame (MemManage fault on entry)"
    if cfsr & CFSR_STKERR:
        return "STKERR: the core could not stack the exception frame (BusFault on entry)"
    return None

"""One frame as the unwinder finds it, before symbolization."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from symbolicator.unwind.registers import RegisterValues


class How(StrEnum):
    """How a frame's registers were recovered; shown to users as the frame's hint."""

    CONTEXT = "registers from the coredump"
    CFI = "CFI"
    EXCEPTION = "exception frame"
    PROLOGUE = "prologue analysis"
    LEAF = "LR: leaf function"
    LR = "LR: no unwind information"
    STACK_SCAN = "stack scan"
    TAIL_CALL = "tail call (DWARF call sites)"


@dataclass
class UnwoundFrame:
    pc: int
    registers: RegisterValues
    hint: str
    how: How
    exception: bool = False  # GDB's <signal handler called>: pc is the EXC_RETURN value
    tail_call: bool = False  # a function that tail-called the frame below; no stack frame
    unreadable: bool = False  # unwinding out of this frame needed memory not captured
    interrupted: bool = False  # the frame 0 of a context, or code an exception interrupted
    cfa: int | None = None
    recovered: set[str] = field(default_factory=set)  # registers restored by unwinding

    @property
    def lookup_pc(self) -> int:
        """The address that names this frame's function and line.

        A caller's pc is a return address, which may already belong to the
        next line or even the next function (a call to a noreturn function
        as the last instruction), so it is looked up at pc - 1; frame 0 and
        code interrupted by an exception are looked up at the exact pc
        (GDB's get_frame_address_in_block).
        """
        return self.pc if self.interrupted else max(self.pc - 1, 0)


@dataclass
class Stop:
    """Why unwinding ended, as a sentence for users (GDB's unwind stop reasons)."""

    reason: str
    clean: bool  # True when the stack ended where stacks end (thread entry, reset handler)

"""What evaluating a frame's variables needs to know about the frame and its caller."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FrameContext:
    scope: int  # DIE offset: the subprogram, or the inlined subroutine of an inline frame
    pc: int  # the lookup address (pc - 1 for callers, as GDB's get_frame_address_in_block)
    registers: object  # RegisterValues of this frame
    cfa: int | None  # the CFA of the real frame this one belongs to
    function_entry: int  # entry address of the real (non-inline) function
    function_scope: int  # DIE offset of the real function's subprogram
    caller: FrameContext | None = None  # the next real or tail-call frame outwards
    frame_pc: int = 0  # the frame's own pc (a return address for callers)

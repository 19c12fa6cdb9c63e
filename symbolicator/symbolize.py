"""Unwound frames -> trace frames: function, file, line and inline chains."""

from __future__ import annotations

from symbolicator.index import SymbolIndex
from symbolicator.trace import Frame, FrameKind, FrameStatus, SourceLocation
from symbolicator.unwind.cortex_m import ExcReturn
from symbolicator.unwind.frame import UnwoundFrame


def symbolize(frame: UnwoundFrame, index: SymbolIndex) -> list[Frame]:
    """One unwound frame, expanded into its inline chain (innermost first)."""
    return [out for out, _ in symbolize_with_scopes(frame, index)]


def symbolize_with_scopes(
    frame: UnwoundFrame, index: SymbolIndex
) -> list[tuple[Frame, int | None]]:
    """Like symbolize, pairing each frame with the DIE whose variables it shows."""
    registers = {name: value for name, value in frame.registers.items() if value is not None}
    recovered = sorted(name for name in frame.recovered if name in registers)
    if frame.exception:
        return [
            (
                Frame(
                    pc=frame.pc,
                    kind=FrameKind.EXCEPTION,
                    status=FrameStatus.UNREADABLE_MEMORY
                    if frame.unreadable
                    else FrameStatus.SYMBOLICATED,
                    hint=f"EXC_RETURN 0x{frame.pc:08x}: {ExcReturn(frame.pc).describe()}",
                    cfa=frame.cfa,
                    registers=registers,
                    recovered=recovered,
                ),
                None,
            )
        ]
    address = frame.lookup_pc
    function = index.function_at(address)
    if function is None:
        return [
            (
                Frame(
                    pc=frame.pc,
                    status=FrameStatus.UNKNOWN_FUNCTION,
                    hint=frame.hint,
                    cfa=frame.cfa,
                    registers=registers,
                    recovered=recovered,
                ),
                None,
            )
        ]
    location = _location(index.line_at(address))
    # GDB's frame_show_address: the pc is omitted only at the start of a statement row.
    at_line_start = frame.interrupted and index.line_entry(address) == (frame.pc, True)
    frames = []
    for entry in index.inline_chain(function, address):
        call_site = _location((index.file_name(entry.call_file), entry.call_line))
        inline = Frame(
            pc=frame.pc,
            kind=FrameKind.INLINE,
            function=entry.name,
            location=location,
            call_site=call_site,
            hint="inlined",
            cfa=frame.cfa,
            registers=registers,  # an inline frame shares its real frame's registers
            recovered=recovered,
        )
        frames.append((inline, entry.die))
        location = call_site
    if frames:
        frames[0][0].at_line_start = at_line_start
    real = Frame(
        pc=frame.pc,
        kind=FrameKind.TAILCALL if frame.tail_call else FrameKind.NORMAL,
        function=function.name,
        function_offset=frame.pc - function.start,
        location=location,
        hint=frame.hint,
        cfa=frame.cfa,
        registers=registers,
        recovered=recovered,
    )
    real.at_line_start = at_line_start and not frames
    scope = index.subprogram_die(function)
    frames.append((real, scope[1] if scope else None))
    return frames


def _location(found) -> SourceLocation | None:
    if not found or not found[0] or not found[1]:
        return None
    return SourceLocation(file=found[0], line=found[1])

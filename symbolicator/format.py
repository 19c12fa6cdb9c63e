"""Traces as text, in the shape of GDB's `thread apply all bt` (stack.c print_frame), or of
`thread apply all bt full` with every frame's locals (print_frame_local_vars)."""

from __future__ import annotations

from symbolicator.trace import Frame, Thread, Trace, VariableInfo

LOCALS_INDENT = " " * 8  # bt full prints each local with an indent of 8


def format_trace(trace: Trace, *, hints: bool = True, full: bool = False) -> str:
    blocks = [
        format_thread(thread, number, hints=hints, full=full)
        for number, thread in enumerate(trace.threads, 1)
    ]
    header = f"{trace.summary}\n\n" if trace.summary else ""
    return header + "\n".join(blocks)


def format_thread(
    thread: Thread, number: int = 1, *, hints: bool = True, full: bool = False
) -> str:
    details = ", ".join(x for x in (thread.state, "crashed" if thread.crashed else None) if x)
    lines = [f'Thread {number} "{thread.name}"' + (f" ({details})" if details else "") + ":"]
    lines += backtrace_lines(thread.frames, hints=hints, full=full)
    if thread.stop_reason:
        lines.append(f"Backtrace stopped: {thread.stop_reason}")
    return "\n".join(lines) + "\n"


def backtrace_lines(frames: list[Frame], *, hints: bool = True, full: bool = False) -> list[str]:
    out = []
    for level, frame in enumerate(frames):
        line = f"#{level:<3}{frame_line(frame, frames[level - 1] if level else None)}"
        if hints and frame.hint and frame.hint != "inlined":
            line += f"  [{frame.hint}]"
        out.append(line)
        if full:
            out += locals_lines(frame)
    return out


def locals_lines(frame: Frame) -> list[str]:
    """What `bt full` prints under a frame: its locals, or why there are none. A frame
    without line information has no symbol table for GDB (get_frame_block is NULL)."""
    if frame.is_exception or frame.location is None:
        return ["No symbol table info available."]
    if not frame.locals:
        return ["No locals."]
    return [f"{LOCALS_INDENT}{local.name} = {local.text}" for local in frame.locals]


def frame_line(frame: Frame, callee: Frame | None) -> str:
    """One frame as `bt` prints it: address only where GDB shows one (frame_show_address)."""
    if frame.kind.value == "exception":
        return "<signal handler called>"
    has_inlined_callee = (
        callee is not None and callee.kind.value == "inline" and callee.pc == frame.pc
    )
    show_address = not has_inlined_callee and not frame.at_line_start
    text = f"0x{frame.pc:08x} in " if show_address else ""
    text += f"{frame.function or '??'} ({arguments_text(frame.arguments)})"
    if frame.location is not None:
        text += f" at {frame.location.file}:{frame.location.line}"
    return text


def arguments_text(arguments: list[VariableInfo]) -> str:
    """`print frame-arguments scalars` with `print entry-values default`."""
    parts = []
    for argument in arguments:
        value = argument.text if argument.scalar else "..."
        entry = argument.entry if argument.scalar else "..."  # the same summary rule
        if argument.entry is None:
            parts.append(f"{argument.name}={value}")
        elif argument.entry_matches:
            parts.append(f"{argument.name}={argument.name}@entry={entry}")
        else:
            parts.append(f"{argument.name}={value}, {argument.name}@entry={entry}")
    return ", ".join(parts)

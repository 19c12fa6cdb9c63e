"""Traces as text, in the shape of GDB's `thread apply all bt` (stack.c print_frame)."""

from __future__ import annotations

from symbolicator.trace import Frame, Thread, Trace, VariableInfo


def format_trace(trace: Trace, *, hints: bool = True) -> str:
    blocks = [
        format_thread(thread, number, hints=hints) for number, thread in enumerate(trace.threads, 1)
    ]
    header = f"{trace.summary}\n\n" if trace.summary else ""
    return header + "\n".join(blocks)


def format_thread(thread: Thread, number: int = 1, *, hints: bool = True) -> str:
    details = ", ".join(x for x in (thread.state, "crashed" if thread.crashed else None) if x)
    lines = [f'Thread {number} "{thread.name}"' + (f" ({details})" if details else "") + ":"]
    lines += backtrace_lines(thread.frames, hints=hints)
    if thread.stop_reason:
        lines.append(f"Backtrace stopped: {thread.stop_reason}")
    return "\n".join(lines) + "\n"


def backtrace_lines(frames: list[Frame], *, hints: bool = True) -> list[str]:
    out = []
    for level, frame in enumerate(frames):
        line = f"#{level:<3}{frame_line(frame, frames[level - 1] if level else None)}"
        if hints and frame.hint and frame.hint != "inlined":
            line += f"  [{frame.hint}]"
        out.append(line)
    return out


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

"""The frame strategy of dre:2026-12-04: which frames of the crashed thread contribute.

1. Find where the crash's own frames end (`_boundary`): at the interrupt's exception
   frame for a fault taken in handler mode, else just past the thread's entry function.
   Frames beyond are shown with why they do not count, never grouped on.
2. Each frame before it contributes unless a reason says otherwise, checked in order:
   an exception frame, no function name, a C runtime function, an in-app rule (the
   config's defaults, then the project's; the last match wins), an ignore rule, direct
   recursion, more than `max_frames` contributing frames already.
Every decision is a hint on the frame's component.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from dre.crashes.grouping.defaults import ENTRY_FUNCTIONS, THREAD_STARTS
from dre.crashes.grouping.model import (
    RUNTIME_FUNCTIONS,
    Component,
    Config,
    Rules,
    own_frames,
)
from dre.crashes.grouping.rules import decide

# EXC_RETURN values (ARMv7-M ARM B1.5.8, ARMv8-M adds 0xFFFFFFxx forms): a return from an
# exception, never code. They appear as the pc of the frame past an exception entry.
EXC_RETURN_MIN = 0xFFFFFF00


@dataclass
class _Frame:
    """One frame and what the walk decided about it."""

    data: dict
    name: str | None
    file: str
    in_app: bool
    rule_hint: str  # why the in-app rules decided so, "" when none matched


def components(trace: dict, config: Config, rules: Rules) -> list[Component]:
    frames = [_classify(f, config, rules) for f in own_frames(trace)]
    end, why = _boundary(trace, frames)
    entry = end - 1 if why.startswith("past") else None
    out: list[Component] = []
    taken, previous = 0, None
    for index, frame in enumerate(frames):
        if index >= end:
            out.append(_shown(frame, why, first=index == end))
            continue
        dropped = _ignored_because(frame, previous, taken, config, rules)
        if dropped:
            out.append(_component(frame, False, dropped))
        else:
            taken += 1
            note = "the thread's entry function" if index == entry else ""
            out.append(_component(frame, True, "; ".join(filter(None, [frame.rule_hint, note]))))
        previous = frame.name or previous
    return out


def _classify(frame: dict, config: Config, rules: Rules) -> _Frame:
    name = frame.get("function")
    if _is_exception(frame):
        name = None
    file = (frame.get("location") or {}).get("file") or ""
    rule = decide(config.default_rules + rules.not_in_app, name, file) if name else None
    if rule is None:
        return _Frame(frame, name, file, in_app=True, rule_hint="")
    verdict = "in-app" if rule.in_app else "not in-app"
    return _Frame(frame, name, file, rule.in_app, f"{verdict} ({rule.describe()})")


def _is_exception(frame: dict) -> bool:
    return frame.get("kind") == "exception" or (frame.get("pc") or 0) >= EXC_RETURN_MIN


# -- where the crash's own frames end ----------------------------------------------------


def _boundary(trace: dict, frames: list[_Frame]) -> tuple[int, str]:
    """The index of the first frame that is not the crash's own, and why."""
    interrupt = _interrupt_boundary(trace, frames)
    if interrupt is not None:
        context = (trace.get("fault") or {}).get("context") or {}
        what = context.get("exception") or "the interrupt"
        if context.get("handler"):
            what += f" ({context['handler']})"
        return interrupt, f"shown, not grouped: what {what} interrupted"
    entry = _entry_index(frames, kernel=bool(trace.get("kernel")))
    if entry is None:
        return len(frames), ""
    return entry + 1, f"past the thread's entry function {frames[entry].name}"


def _interrupt_boundary(trace: dict, frames: list[_Frame]) -> int | None:
    """In handler mode, the exception frame that follows the handler's own in-app frames:
    the stacked context below it is whatever code the interrupt happened to stop."""
    context = (trace.get("fault") or {}).get("context") or {}
    if context.get("mode") != "handler":
        return None
    seen_own = False
    for index, frame in enumerate(frames):
        if _is_exception(frame.data) and seen_own:
            return index
        seen_own = seen_own or (frame.name is not None and frame.in_app)
    return None


def _entry_index(frames: list[_Frame], kernel: bool) -> int | None:
    """The thread's entry function: the frame a kernel's thread start called, or `main`,
    or the last real caller before a return address the kernel planted.

    A planted return address (FreeRTOS's prvTaskExitError, set as the task's initial lr)
    is no call: unwinding it leaves the stack where it was (the same CFA as its callee)
    or, in an RTOS thread, lands in no function at all; GDB names it after the function
    linked before it.
    """
    for index, frame in enumerate(frames):
        if frame.name in ENTRY_FUNCTIONS:
            return index
        following = frames[index + 1] if index + 1 < len(frames) else None
        if following is not None and following.name in THREAD_STARTS:
            return index
    return _before_planted_return(frames, kernel)


def _before_planted_return(frames: list[_Frame], kernel: bool) -> int | None:
    if len(frames) < 2:
        return None
    last, callee = frames[-1].data, frames[-2].data
    same_stack = last.get("cfa") is not None and last.get("cfa") == callee.get("cfa")
    nowhere = kernel and frames[-1].name is None and not _is_exception(last)
    if (same_stack and last.get("kind") == "normal") or nowhere:
        return len(frames) - 2
    return None


# -- one frame --------------------------------------------------------------------------


def _ignored_because(frame: _Frame, previous, taken, config: Config, rules: Rules) -> str:
    """Why the frame does not contribute, or "" when it does."""
    if _is_exception(frame.data):
        return "ignored: exception frame"
    if not frame.name:
        return "ignored: no function name"
    if not frame.in_app:
        return frame.rule_hint
    if RUNTIME_FUNCTIONS.match(frame.name) and not frame.rule_hint:
        return "ignored: C runtime function"
    for pattern in rules.ignore_functions:
        if fnmatchcase(frame.name, pattern):
            return f"ignored by rule {pattern}"
    if frame.name == previous:
        return "ignored: recursion"
    if taken >= config.max_frames:
        return f"ignored: beyond the top {config.max_frames} frames"
    return ""


def _shown(frame: _Frame, why: str, first: bool) -> Component:
    if first and _is_exception(frame.data):
        return _component(frame, False, "ignored: exception frame; the fingerprint ends here")
    return _component(frame, False, why if why.startswith("shown") else f"ignored: {why}")


def _component(frame: _Frame, contributes: bool, hint: str) -> Component:
    data = frame.data
    if _is_exception(data):
        pc = data.get("pc") or 0
        value = f"exception return 0x{pc:08x}" if pc >= EXC_RETURN_MIN else "exception entry"
        return Component("exception", value, False, hint)
    if frame.name is None:
        return Component("function", "??", False, f"{hint} (pc 0x{data.get('pc') or 0:08x})")
    return Component("function", frame.name, contributes, hint)

"""Fingerprints from the crash reason and the top in-app functions.

Config ids are dated; a change to what contributes to a fingerprint gets a
new config, and the changelog below says what changed, so stored
fingerprints stay explainable.

Changelog:
- dre:2026-11-23: the crash reason + up to 5 in-app function names of the
  crashing thread, innermost first. The reason is the fault analysis's kind
  and cause ("fault: UsageFault DIVBYZERO", "stack_overflow", "assert") when
  the trace has one, else the trace reason's name. Exception frames, frames
  without a function name, C runtime functions and direct recursion do not
  contribute. Addresses never contribute: they change with every build.
  A fault inside the fault handler (fault.fault_path, set by the symbolicator) groups
  by the first fault: its recorded reason and thread, then its own frames (those after
  the handler's exception frame) when unwinding recovered them. Traces without it keep
  their fingerprints.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase

from symbolicator.reasons import reason_name

RUNTIME_FUNCTIONS = re.compile(
    r"^(mem(cpy|move|set|cmp)|str(len|cpy|ncpy|cmp|ncmp|chr)|abort|_exit|__assert_func|"
    r"__aeabi_\w+|_?v?s?n?printf|puts|malloc|free|calloc|realloc)$"
)


@dataclass
class Component:
    kind: str
    value: str
    contributes: bool
    hint: str = ""


@dataclass
class GroupingResult:
    config: str
    fingerprint: str
    components: list[Component] = field(default_factory=list)

    @property
    def title_function(self) -> str | None:
        return next(
            (c.value for c in self.components if c.kind == "function" and c.contributes), None
        )

    def to_dict(self) -> dict:
        return {"config": self.config, "components": [asdict(c) for c in self.components]}


@dataclass(frozen=True)
class Config:
    id: str
    max_frames: int = 5


@dataclass(frozen=True)
class Rules:
    """A project's own grouping rules. Patterns use * wildcards (fnmatch).

    not_in_app: "function:hal_*" or "file:*/vendor/*" lines; such frames never
    contribute (vendor code is not where the bug is).
    ignore_functions: function patterns left out of fingerprints.
    max_frames: how many contributing frames make the fingerprint.
    """

    not_in_app: tuple[str, ...] = ()
    ignore_functions: tuple[str, ...] = ()
    max_frames: int | None = None

    @classmethod
    def parse(cls, not_in_app: str = "", ignore_functions: str = "", max_frames=None) -> Rules:
        def lines(text: str) -> tuple[str, ...]:
            return tuple(
                line.strip()
                for line in text.splitlines()
                if line.strip() and not line.startswith("#")
            )

        return cls(lines(not_in_app), lines(ignore_functions), max_frames)


CONFIGS = {"dre:2026-11-23": Config(id="dre:2026-11-23")}
DEFAULT_CONFIG = "dre:2026-11-23"


def group(
    trace: dict, config_id: str = DEFAULT_CONFIG, rules: Rules | None = None
) -> GroupingResult:
    """Fingerprint a stored trace (symbolicator.Trace.to_dict() shape)."""
    config = CONFIGS[config_id]
    rules = rules or Rules()
    if rules.max_frames:
        config = Config(config.id, rules.max_frames)
    components = [Component("reason", _reason(trace), contributes=True)]
    components += _frame_components(_crashed_frames(trace), config, rules)
    contributing = [f"{c.kind}:{c.value}" for c in components if c.contributes]
    digest = hashlib.sha256("\n".join([config.id, *contributing]).encode()).hexdigest()
    return GroupingResult(config.id, digest, components)


def _reason(trace: dict) -> str:
    fault = trace.get("fault") or {}
    if path := fault.get("fault_path"):
        return _fault_path_reason(trace, path)
    if fault.get("kind") in ("fault", "stack_overflow", "assert", "watchdog"):
        parts = [fault["kind"], fault.get("exception"), fault.get("cause")]
        return " ".join(p for p in parts if p)
    return reason_name(trace.get("trace_reason"))


def _fault_path_reason(trace: dict, path: dict) -> str:
    """A fault inside the fault handler groups by the first fault: its recorded reason and
    the thread it hit, never by the handler code (memcpy) the second fault stopped in."""
    reason = path.get("first_reason_name") or reason_name(trace.get("trace_reason"))
    thread = path.get("first_thread")
    return f"fault_path {reason}" + (f" thread {thread}" if thread else "")


def _crashed_frames(trace: dict) -> list[dict]:
    """The crashed thread's frames; after a fault in the fault path only the first fault's
    (those after the handler's exception frame), or none when they were lost."""
    path = (trace.get("fault") or {}).get("fault_path")
    if path:
        first = path.get("first_frame")
        return _crashed_thread_frames(trace)[first:] if first is not None else []
    return _crashed_thread_frames(trace)


def _crashed_thread_frames(trace: dict) -> list[dict]:
    for thread in trace.get("threads", []):
        if thread.get("crashed"):
            return thread.get("frames", [])
    return []


def _frame_components(frames: list[dict], config: Config, rules: Rules) -> list[Component]:
    components: list[Component] = []
    taken, previous = 0, None
    for frame in frames:
        name = frame.get("function")
        hint = _ignored_because(frame, name, previous, taken, config) or _by_rule(
            frame, name, rules
        )
        components.append(Component("function", name or f"0x{frame['pc']:08x}", not hint, hint))
        if not hint:
            taken += 1
        previous = name or previous
    return components


def _ignored_because(frame, name, previous, taken, config) -> str:
    if frame.get("kind") == "exception":
        return "ignored: exception frame"
    if not name:
        return "ignored: no function name"
    if RUNTIME_FUNCTIONS.match(name):
        return "ignored: C runtime function"
    if name == previous:
        return "ignored: recursion"
    if taken >= config.max_frames:
        return f"ignored: beyond the top {config.max_frames} frames"
    return ""


def _by_rule(frame: dict, name: str | None, rules: Rules) -> str:
    if name is None:
        return ""
    file = (frame.get("location") or {}).get("file") or ""
    for pattern in rules.not_in_app:
        kind, _, glob = pattern.partition(":")
        if (kind == "function" and fnmatchcase(name, glob)) or (
            kind == "file" and fnmatchcase(file, glob)
        ):
            return f"not in-app (rule {pattern})"
    for pattern in rules.ignore_functions:
        if fnmatchcase(name, pattern):
            return f"ignored by rule {pattern}"
    return ""

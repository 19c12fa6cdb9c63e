"""What grouping works with: its config, a project's rules, and its result."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from dre.crashes.grouping.rules import AppRule, parse_lines

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

    def culprit(self, count: int = 3) -> str:
        """The top contributing functions, innermost first, as the issue list shows them."""
        names = [c.value for c in self.components if c.kind == "function" and c.contributes]
        return " ← ".join(names[:count])

    def to_dict(self) -> dict:
        return {"config": self.config, "components": [asdict(c) for c in self.components]}


@dataclass(frozen=True)
class Rules:
    """A project's own grouping rules.

    not_in_app: in-app rule lines (grouping.rules): `-app:hal_*`, `+app:prvMyTask`,
    `file:*/vendor/* -app`, or the first form, `function:hal_*`, meaning not in-app.
    ignore_functions: function patterns (fnmatch) left out of fingerprints.
    max_frames: how many contributing frames make the fingerprint.
    """

    not_in_app: tuple[AppRule, ...] = ()
    ignore_functions: tuple[str, ...] = ()
    max_frames: int | None = None

    @classmethod
    def parse(cls, not_in_app: str = "", ignore_functions: str = "", max_frames=None) -> Rules:
        """Raises grouping.RuleError for a line that does not parse."""
        ignored = tuple(
            line.strip()
            for line in ignore_functions.splitlines()
            if line.strip() and not line.startswith("#")
        )
        return cls(parse_lines(not_in_app), ignored, max_frames)


FrameStrategy = Callable[[dict, "Config", Rules], list[Component]]


@dataclass(frozen=True)
class Config:
    id: str
    frames: FrameStrategy
    max_frames: int = 5
    default_rules: tuple[AppRule, ...] = ()
    # What the reason component says; None keeps the trace's recorded reason.
    reason: Callable[[dict], str | None] | None = None


def own_frames(trace: dict) -> list[dict]:
    """The crashed thread's frames; after a fault inside the fault handler
    (fault.fault_path, set by the symbolicator) only the first fault's, those after the
    handler's exception frame, or none when unwinding lost them."""
    path = (trace.get("fault") or {}).get("fault_path")
    if not path:
        return crashed_frames(trace)
    first = path.get("first_frame")
    return crashed_frames(trace)[first:] if first is not None else []


def crashed_frames(trace: dict) -> list[dict]:
    for thread in trace.get("threads", []):
        if thread.get("crashed"):
            return thread.get("frames", [])
    return []

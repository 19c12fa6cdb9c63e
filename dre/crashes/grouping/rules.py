"""In-app rules: which frames are the project's own code, in the spirit of Sentry's
stack-trace rules (`function:std::* -app`).

A rule is one line, one of:

    -app:GLOB            a function pattern that is not in-app
    +app:GLOB            a function pattern that is in-app (overrides a default rule)
    function:GLOB -app   the same, spelled out; `+app` likewise
    file:GLOB -app       a source file pattern (the frame's DWARF file name)
    function:GLOB        (no action) not in-app, as the first rules were written

Patterns use * and ? wildcards and match case-sensitively. Rules apply in order and
the last one that matches a frame decides, so a project's rules, which come after the
defaults of the grouping config, can take a default back (`+app:prvMyTask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

MATCHERS = ("function", "file")


class RuleError(ValueError):
    """A rule line that does not parse; the message says which and why."""


@dataclass(frozen=True)
class AppRule:
    matcher: str  # "function" or "file"
    pattern: str
    in_app: bool
    text: str  # the line as written, for hints
    label: str = ""  # what a default rule is about ("FreeRTOS kernel"), shown in hints

    @classmethod
    def parse(cls, line: str, label: str = "") -> AppRule:
        text = " ".join(line.split())
        head, _, action = text.partition(" ")
        if head[:5] in ("+app:", "-app:") and not action:
            return cls._checked("function", head[5:], head[0] == "+", text, label)
        matcher, colon, pattern = head.partition(":")
        if not colon or matcher not in MATCHERS:
            raise RuleError(f"{text!r}: start with +app:, -app:, function: or file:")
        if action not in ("", "+app", "-app"):
            raise RuleError(f"{text!r}: the action after the pattern is +app or -app")
        return cls._checked(matcher, pattern, action == "+app", text, label)

    @classmethod
    def _checked(cls, matcher, pattern, in_app, text, label) -> AppRule:
        if not pattern.strip():
            raise RuleError(f"{text!r}: the pattern is empty")
        return cls(matcher, pattern, in_app, text, label)

    def matches(self, function: str, file: str) -> bool:
        return fnmatchcase(function if self.matcher == "function" else file, self.pattern)

    def describe(self) -> str:
        about = f"{self.label}, " if self.label else ""
        origin = "default rule" if self.label else "rule"
        return f"{about}{origin} {self.text}"


def parse_lines(text: str) -> tuple[AppRule, ...]:
    """Rule lines of a project's setting; blank lines and # comments are skipped."""
    return tuple(
        AppRule.parse(line)
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    )


# Frames of one build repeat across its crashes, and each decision runs every rule's
# pattern (the defaults alone are over 80): decisions are remembered, by the rules too.
DECISIONS_KEPT = 65536


@lru_cache(maxsize=DECISIONS_KEPT)
def decide(rules: tuple[AppRule, ...], function: str, file: str) -> AppRule | None:
    """The last rule matching the frame, or None when no rule speaks about it."""
    found = None
    for rule in rules:
        if rule.matches(function, file):
            found = rule
    return found

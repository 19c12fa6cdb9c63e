"""Ordering of software versions.

Semantic versions (semver.org 2.0.0, section 11) order by their numbers, a
pre-release below its release, build metadata ignored. Anything else orders
"naturally": runs of digits compare as numbers ("build 10" after "build 9").
Both kinds share one key shape, a sequence of (rank, value) tokens, so any two
versions compare and the order is total.
"""

from __future__ import annotations

import re

SEMVER = re.compile(
    r"^v?(?P<core>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*))"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
DIGITS = re.compile(r"(\d+)")
# A string that ends sorts before one that goes on ("build" < "build 2"); a
# pre-release sorts before the release it precedes (semver 11.3).
PRERELEASE, END, NUMBER, TEXT = -2, -1, 0, 1


def version_key(version: str) -> tuple:
    """A key such that sorted(versions, key=version_key) is oldest first."""
    match = SEMVER.match(version)
    if match is None:
        return (*_natural_tokens(version), (END, ()))
    # A release sorts after every pre-release of the same core version.
    if match["pre"] is None:
        return (*_natural_tokens(match["core"]), (END, ()))
    return (*_natural_tokens(match["core"]), (PRERELEASE, _prerelease(match["pre"])))


def _prerelease(text: str) -> tuple:
    # semver 11.4: numeric identifiers compare as numbers and sort below
    # alphanumeric ones; with equal leading identifiers, fewer sorts first.
    return tuple((NUMBER, int(p), "") if p.isdigit() else (TEXT, 0, p) for p in text.split("."))


def _natural_tokens(text: str) -> tuple:
    return tuple(
        (NUMBER, int(piece)) if piece.isdigit() else (TEXT, piece.lower())
        for piece in DIGITS.split(text)
        if piece
    )


def is_newer(version: str, than: str) -> bool:
    return version_key(version) > version_key(than)

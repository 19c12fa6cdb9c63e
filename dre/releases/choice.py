"""Which release a device is offered: memfault-formats.md 4.2, as a pure function.

Among the releases active for the device (its cohort, software type and
hardware version), in order:
1. a delta release whose from-version is the device's current version;
2. else the must-pass-through full release with the lowest version above it;
3. else the full release with the highest version above it.
A release whose minimum version the device has not reached is never offered.
Without a current version, the highest full release is the answer. A cohort
that allows downgrades also takes the highest full release below the current
version when nothing is above it (Memfault's "Disable Version Checking").
"""

from __future__ import annotations

from dataclasses import dataclass

from dre.fleet.versions import version_key


@dataclass(frozen=True)
class Candidate:
    key: object  # whatever the caller needs back, e.g. a Release id
    version: str
    delta_from: str | None = None
    must_pass_through: bool = False
    min_version: str = ""


def choose(
    candidates: list[Candidate], current: str | None, *, allow_downgrades: bool = False
) -> Candidate | None:
    full = sorted((c for c in candidates if c.delta_from is None), key=_key)
    if not current:
        return full[-1] if full else None
    here = version_key(current)
    eligible = [c for c in candidates if not c.min_version or here >= version_key(c.min_version)]
    for candidate in eligible:
        if candidate.delta_from is not None and version_key(candidate.delta_from) == here:
            return candidate
    above = [c for c in full if c in eligible and _key(c) > here]
    must_pass = [c for c in above if c.must_pass_through]
    if must_pass:
        return must_pass[0]
    if above:
        return above[-1]
    below = [c for c in full if c in eligible and _key(c) < here]
    return below[-1] if allow_downgrades and below else None


def _key(candidate: Candidate) -> tuple:
    return version_key(candidate.version)

"""Which release a device gets: memfault-formats.md 4.2's precedence as a table.

Releases are written "V" (full), "V!" (must pass through), "A>B" (delta A to B),
"V>=M" (full, minimum version M)."""

import pytest

from dre.releases.choice import Candidate, choose


def parse(spec: str) -> Candidate:
    if ">=" in spec:
        version, minimum = spec.split(">=")
        return Candidate(spec, version, min_version=minimum)
    if ">" in spec:
        start, version = spec.split(">")
        return Candidate(spec, version, delta_from=start)
    return Candidate(spec, spec.rstrip("!"), must_pass_through=spec.endswith("!"))


CASES = [
    # (active releases, current version, allow downgrades, expected)
    (["2.0.0"], "1.0.0", False, "2.0.0"),
    (["2.0.0", "3.0.0"], "1.0.0", False, "3.0.0"),
    (["1.10.0", "1.9.0"], "1.2.0", False, "1.10.0"),
    (["2.0.0"], "2.0.0", False, None),
    (["2.0.0"], "3.0.0", False, None),
    (["2.0.0"], "3.0.0", True, "2.0.0"),
    (["2.0.0", "4.0.0"], "3.0.0", True, "4.0.0"),
    (["1.0.0>2.0.0", "3.0.0"], "1.0.0", False, "1.0.0>2.0.0"),
    (["1.0.0>2.0.0", "3.0.0"], "1.5.0", False, "3.0.0"),
    (["1.0.0>2.0.0", "2.0.0!"], "1.0.0", False, "1.0.0>2.0.0"),
    (["2.0.0!", "3.0.0!", "4.0.0"], "1.0.0", False, "2.0.0!"),
    (["2.0.0!", "3.0.0!", "4.0.0"], "2.0.0", False, "3.0.0!"),
    (["2.0.0!", "3.0.0!", "4.0.0"], "3.0.0", False, "4.0.0"),
    (["2.0.0!", "4.0.0"], "2.5.0", False, "4.0.0"),
    (["2.0.0!", "4.0.0"], "1.0.0", True, "2.0.0!"),
    (["2.0.0", "3.0.0-rc.1"], "2.0.0", False, "3.0.0-rc.1"),
    (["3.0.0-rc.1", "3.0.0"], "3.0.0-rc.1", False, "3.0.0"),
    (["3.0.0>=2.0.0", "2.0.0"], "1.0.0", False, "2.0.0"),
    (["3.0.0>=2.0.0", "2.0.0"], "2.0.0", False, "3.0.0>=2.0.0"),
    (["2.0.0!", "4.0.0"], None, False, "4.0.0"),
    (["1.0.0>2.0.0"], None, False, None),
    ([], "1.0.0", False, None),
]


@pytest.mark.parametrize(("active", "current", "downgrades", "expected"), CASES)
def test_it_follows_the_documented_precedence(active, current, downgrades, expected):
    chosen = choose([parse(s) for s in active], current, allow_downgrades=downgrades)

    assert (chosen.key if chosen else None) == expected

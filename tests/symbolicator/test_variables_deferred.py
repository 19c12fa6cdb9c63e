"""Variables read later equal variables read at once: for every fixture crash (every
build with an ELF, every thread, every frame), a trace symbolicated with its variables
deferred and then given them by `variables_read` is the eagerly symbolicated trace,
field for field, the fault analysis (assert details from the handler's arguments)
included."""

import pytest

import symbolicator
from symbolicator import VARIABLES_DEFERRED, VARIABLES_READ, variables_read
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import index_for

CRASHES = sorted(
    path.parent
    for path in FIXTURES.glob("*/*/coredump.bin")
    if (path.parent.parent / "firmware.elf").exists()
)


def crash_id(path):
    return f"{path.parent.name}/{path.name}"


def symbolicated(crash, **options):
    coredump = symbolicator.parse_coredump((crash / "coredump.bin").read_bytes())
    index = index_for(crash.parent.name)
    return coredump, index, symbolicator.symbolicate(coredump, index, **options).to_dict()


def test_it_covers_every_build_with_an_elf():
    builds = {crash.parent.name for crash in CRASHES}
    assert len(CRASHES) >= 80
    assert {"an385-O2", "freertos-an386-O2", "zephyr-an385-O0", "cxx-an385-O2"} <= builds


@pytest.mark.parametrize("crash", CRASHES, ids=crash_id)
def test_it_reads_later_exactly_the_variables_it_would_have_read_at_once(crash):
    _, _, eager = symbolicated(crash)
    coredump, index, deferred = symbolicated(crash, variables=False)

    assert deferred["variables"] == VARIABLES_DEFERRED
    assert not any(f["arguments"] or f["locals"] for t in deferred["threads"] for f in t["frames"])
    assert {**deferred, "threads": None, "variables": None} == {
        **eager,
        "threads": None,
        "variables": None,
    }
    assert variables_read(coredump, index, deferred) == eager
    assert eager["variables"] == VARIABLES_READ


def test_it_leaves_a_trace_whose_variables_were_read_as_it_is():
    coredump, index, eager = symbolicated(CRASHES[0])

    assert variables_read(coredump, index, eager) is eager


def test_it_refuses_to_give_variables_to_frames_the_coredump_does_not_unwind_to():
    crash = next(c for c in CRASHES if c.name == "null_write" and c.parent.name == "an385-O2")
    coredump, index, deferred = symbolicated(crash, variables=False)
    deferred["threads"][0]["frames"][0]["pc"] += 2

    with pytest.raises(symbolicator.SymbolicatorError, match="not the one unwound now"):
        variables_read(coredump, index, deferred)


def test_it_refuses_a_stored_trace_with_other_threads():
    coredump, index, deferred = symbolicated(CRASHES[0], variables=False)
    deferred["threads"][0]["frames"].pop()

    with pytest.raises(symbolicator.SymbolicatorError, match="other frames"):
        variables_read(coredump, index, deferred)

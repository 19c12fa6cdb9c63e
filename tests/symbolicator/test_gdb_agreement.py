"""dre's backtraces equal GDB's, frame for frame, for every thread of every fixture.

GDB 13 attached to QEMU at the fault is the reference (tests/firmware/README.md).
The crashing thread starts at the faulting function: GDB's fault-handler frame and
its <signal handler called> are not part of what a coredump describes.

One deliberate difference: in stack_overflow the core could not stack the exception
frame (MSTKERR), GDB unwinds the garbage it reads there and stops after one frame;
dre shows the same first frame, then recovers the rest by scanning the stack.
"""

import pytest

from tests.symbolicator.gdb_reference import (
    STACKING_FAILED,
    comparable,
    dre_rows,
    dre_trace,
    gdb_rows,
    reference,
    scenario_dirs,
    toolchain_scenario_dirs,
)

SCENARIOS = scenario_dirs() + toolchain_scenario_dirs()


def thread_pairs(scenario):
    expected = reference(scenario)["threads"]
    actual = {thread.name: thread for thread in dre_trace(scenario).threads}
    for thread in expected:
        yield thread["name"], gdb_rows(thread), actual.get(thread["name"])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_thread_matches_gdb_frame_for_frame(scenario):
    for name, expected, actual in thread_pairs(scenario):
        assert actual is not None, f"dre found no thread {name!r}"
        got = comparable(scenario, dre_rows(actual), len(expected), actual.crashed)
        assert [str(r) for r in got] == [str(r) for r in expected], f"thread {name}"


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name == STACKING_FAILED], ids=lambda p: p.parent.name
)
def test_a_stack_overflow_is_recovered_by_scanning_down_to_the_thread_entry(scenario):
    crashed = dre_trace(scenario).threads[0]
    functions = [frame.function for frame in crashed.frames]

    assert crashed.frames[0].hint.startswith("registers not stacked (MSTKERR)")
    assert crashed.frames[1].hint == "stack scan"
    assert functions[1:4] == ["parse_nested"] * 3
    assert functions[-4:] == [
        "scenario_stack_overflow",
        "scenario_run",
        "main_thread",
        "thread_trampoline",
    ]
    assert "MSTKERR" in crashed.stop_reason
    assert "scanning the stack" in crashed.stop_reason

"""The RTOS fixtures: dre finds every thread GDB found, with the same name, state,
priority and stack, and unwinds it frame for frame as GDB does.

The firmware replicates FreeRTOS's and Zephyr's data structures and context switch
(tests/firmware/README.md, "RTOS variants"); GDB's reference loads each switched-out
thread's registers the way its kernel saved them. Its states follow eTaskGetState and
Zephyr's thread_state bits, computed by the harness from the kernel's structures.

Where GDB's last frame is a return address in no function (`0xaaaaaaaa in ?? ()`,
the stack fill Zephyr leaves in a new thread's lr slot; `0x00000dc4 in ?? ()`,
prvTaskExitError's address - 1 in padding), GDB shows that frame and stops, and so
does dre.
"""

from __future__ import annotations

from functools import cache

import pytest

import symbolicator
from symbolicator.rtos import discover_threads
from symbolicator.symbolicate import coredump_memory
from tests.firmware.memfault_port import OUTPUT, freertos_port_coredump
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import (
    dre_rows,
    gdb_rows,
    index_for,
    reference,
    rtos_scenario_dirs,
)

SCENARIOS = rtos_scenario_dirs()
FREERTOS = [s for s in SCENARIOS if s.parent.name.startswith("freertos-")]
ZEPHYR = [s for s in SCENARIOS if s.parent.name.startswith("zephyr-")]


def name(scenario):
    return f"{scenario.parent.name}/{scenario.name}"


@cache
def kernel_of(scenario, dump="coredump.bin"):
    coredump = symbolicator.parse_coredump((scenario / dump).read_bytes())
    index = index_for(scenario.parent.name)
    return discover_threads(coredump_memory(coredump, index), index, coredump)


@cache
def trace_of(scenario, dump="coredump.bin"):
    coredump = symbolicator.parse_coredump((scenario / dump).read_bytes())
    return symbolicator.symbolicate(coredump, index_for(scenario.parent.name))


def pairs(scenario):
    infos = {info.name: info for info in kernel_of(scenario).threads}
    threads = {thread.name: thread for thread in trace_of(scenario).threads}
    for expected in reference(scenario)["threads"]:
        name_ = expected["name"]
        yield expected, infos.get(name_), threads.get(name_)


def ends_in_no_function(expected: dict) -> bool:
    return expected["frames"][-1]["function"] is None


def test_the_rtos_fixtures_are_all_there():
    assert len(FREERTOS) == 8
    assert len(ZEPHYR) == 12  # task_fault, isr_fault and oops (k_oops through SVC)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=name)
def test_it_finds_exactly_the_threads_gdb_found(scenario):
    expected = sorted(t["name"] for t in reference(scenario)["threads"])

    assert sorted(t.name for t in kernel_of(scenario).threads) == expected
    assert kernel_of(scenario).problems == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=name)
def test_every_thread_unwinds_frame_for_frame_as_far_as_gdb_goes(scenario):
    for expected, _, actual in pairs(scenario):
        rows = [str(r) for r in gdb_rows(expected)]
        got = [str(r) for r in dre_rows(actual)][: len(rows)]
        assert got == rows, f"thread {expected['name']}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=name)
def test_a_thread_whose_stack_ends_in_a_function_ends_where_gdb_ends(scenario):
    for expected, _, actual in pairs(scenario):
        if not ends_in_no_function(expected):
            assert len(actual.frames) == len(expected["frames"]), f"thread {expected['name']}"


@pytest.mark.parametrize(
    "scenario",
    [s for s in SCENARIOS if any(map(ends_in_no_function, reference(s)["threads"]))],
    ids=name,
)
def test_a_thread_whose_stack_ends_in_no_function_ends_where_gdb_ends(scenario):
    for expected, _, actual in pairs(scenario):
        assert len(actual.frames) == len(expected["frames"]), f"thread {expected['name']}"


def expected_stack_size(scenario, expected: dict) -> int:
    """FreeRTOS with pxEndOfStack: the usable stack up to that word (the port aligns the
    top down to 8 bytes); otherwise the stack buffer's size."""
    end = expected.get("end_of_stack")
    if end is None:
        return expected["stack_size"]
    return int(end, 16) + 4 - int(expected["stack_base"], 16)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=name)
def test_names_states_priorities_and_stacks_are_gdbs(scenario):
    for expected, info, _ in pairs(scenario):
        got = (info.state, info.priority, info.is_current, info.stack_base, info.stack_size)
        assert got == (
            expected["state"],
            expected["priority"],
            expected["current"],
            int(expected["stack_base"], 16),
            expected_stack_size(scenario, expected),
        ), expected["name"]
        assert info.stack_unused == expected["stack_unused_bytes"], expected["name"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=name)
def test_each_saved_register_is_the_one_gdb_loaded(scenario):
    for expected, info, _ in pairs(scenario):
        if expected["current"]:
            assert info.registers is None  # the crash context, not the stale save area
            continue
        context = expected["context"]
        values = {reg: int(value, 16) for reg, value in context["values"].items()}
        values["pc"] &= ~1
        got = {reg: info.registers[reg] for reg in values}
        assert got == values, expected["name"]
        assert info.registers["sp"] == int(context["sp"], 16), expected["name"]


FREERTOS_TASK_FAULT = {  # name: (state, priority)
    "app": ("running", 1),
    "worker": ("ready", 1),
    "IDLE": ("ready", 0),
    "rx": ("ready", 2),  # readied into xPendingReadyList with the scheduler suspended
    "sensor": ("blocked", 3),  # delayed list
    "comms": ("blocked", 3),  # xSuspendedTaskList, waiting for a notification
    "cmd": ("blocked", 2),  # xSuspendedTaskList, on an event list
    "logger": ("suspended", 2),
    "oneshot": ("deleted", 4),
}
ZEPHYR_TASK_FAULT = {
    "main": ("running", 5),
    "worker": ("ready", 5),
    "idle": ("ready", 15),
    "sensor": ("sleeping", 2),
    "comms": ("pending", 3),
    "rx": ("pending", 3),
    "logger": ("suspended", 4),
}


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name == "task_fault"], ids=name)
def test_the_task_fault_scenario_has_a_thread_in_every_state(scenario):
    table = FREERTOS_TASK_FAULT if scenario in FREERTOS else ZEPHYR_TASK_FAULT
    got = {info.name: (info.state, info.priority) for info in kernel_of(scenario).threads}

    assert got == table


@pytest.mark.parametrize("scenario", [s for s in FREERTOS if s.name == "task_fault"], ids=name)
def test_freertos_notes_say_what_each_task_waits_for(scenario):
    notes = {info.name: info.notes for info in kernel_of(scenario).threads}

    assert notes["rx"] == ["readied while the scheduler was suspended (in xPendingReadyList)"]
    assert notes["sensor"][0].startswith("delayed until tick ")
    assert notes["comms"] == [
        "waits for a task notification with no timeout (in xSuspendedTaskList)"
    ]
    assert notes["cmd"] == ["waits for an event with no timeout (in xSuspendedTaskList)"]
    assert notes["oneshot"][0].startswith("deleted itself")


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name == "task_fault"], ids=name)
def test_the_trace_names_its_kernel_and_keeps_each_threads_priority_and_notes(scenario):
    trace = trace_of(scenario)
    kernel = {info.name: info for info in kernel_of(scenario).threads}

    assert trace.kernel == ("FreeRTOS" if scenario in FREERTOS else "Zephyr")
    for thread in trace.threads:
        assert (thread.priority, thread.notes) == (
            kernel[thread.name].priority,
            kernel[thread.name].notes,
        )


@pytest.mark.parametrize("scenario", [s for s in ZEPHYR if s.name == "task_fault"], ids=name)
def test_zephyr_notes_show_the_state_bits_and_the_wait_queue(scenario):
    notes = {info.name: info.notes[0] for info in kernel_of(scenario).threads}

    assert notes["comms"] == "thread_state 0x02: pending; pended on s_comms_sem"
    assert notes["worker"] == "thread_state 0x80: queued"
    assert notes["sensor"] == "thread_state 0x04: sleeping"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if "an386" in s.parent.name], ids=name)
def test_on_the_cm4f_the_sensor_was_switched_out_with_its_fpu_state(scenario):
    sensor = next(info for info in kernel_of(scenario).threads if info.name == "sensor")
    context = next(t for t in reference(scenario)["threads"] if t["name"] == "sensor")["context"]

    assert context["frame_kind"] == "extended"
    assert [f"s{n}" in sensor.registers for n in range(32)] == [True] * 32
    assert "fpscr" in sensor.registers


def test_a_saved_xpsr_with_bit_9_is_among_the_fixtures():
    aligned = [
        (name(s), t["name"])
        for s in SCENARIOS
        for t in reference(s)["threads"]
        if not t["current"] and int(t["context"]["values"]["xpsr"], 16) & 0x200
    ]

    assert aligned  # each such thread's sp is checked in test_each_saved_register_...


# Memfault FreeRTOS port: TCBs, tasks.c's variables and 256 bytes from pxTopOfStack ------


@pytest.mark.parametrize("scenario", FREERTOS, ids=name)
def test_the_committed_port_dump_is_what_the_derivation_makes(scenario):
    full = (scenario / "coredump.bin").read_bytes()

    assert (scenario / OUTPUT).read_bytes() == freertos_port_coredump(full, reference(scenario))


@pytest.mark.parametrize("scenario", FREERTOS, ids=name)
def test_a_port_dump_still_names_every_task_with_its_state_and_priority(scenario):
    full = {
        (i.name, i.state, i.priority, i.stack_base, i.stack_size)
        for i in kernel_of(scenario).threads
    }
    port = kernel_of(scenario, OUTPUT)

    assert {(i.name, i.state, i.priority, i.stack_base, i.stack_size) for i in port.threads} == full
    assert port.problems == []
    # The bottoms of the stacks were not captured: the high-water marks are unknown.
    assert [i.stack_unused for i in port.threads] == [None] * len(port.threads)


@pytest.mark.parametrize("scenario", FREERTOS, ids=name)
def test_a_port_dump_unwinds_every_task_as_far_as_its_stack_was_captured(scenario):
    """GDB's frames, up to where the captured stack ends; then the reason says so."""
    threads = {thread.name: thread for thread in trace_of(scenario, OUTPUT).threads}
    for expected in reference(scenario)["threads"]:
        thread = threads[expected["name"]]
        complete, rows = gdb_rows(expected), dre_rows(thread)
        shown = min(len(rows), len(complete))
        assert rows[:shown] == complete[:shown], thread.name
        assert rows, thread.name
        if len(rows) < len(complete):
            assert "not captured" in thread.stop_reason, thread.name


def test_a_port_dump_cuts_the_extended_frame_of_the_sensor_task_short():
    scenario = FIXTURES / "freertos-an386-O0" / "task_fault"
    sensor = next(t for t in trace_of(scenario, OUTPUT).threads if t.name == "sensor")
    full = next(t for t in trace_of(scenario).threads if t.name == "sensor")

    assert len(sensor.frames) < len(full.frames)
    assert sensor.stop_reason.startswith("Cannot access memory at address 0x")

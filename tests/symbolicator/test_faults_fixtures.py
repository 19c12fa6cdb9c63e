"""Fault analysis of every firmware fixture: the kind and cause each scenario was built
to produce (tests/firmware/README.md, "Scenarios"), the place GDB shows, and the
sentence, compared with a readable snapshot.

Regenerate the snapshot after an intended change with
    DRE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/symbolicator/test_faults_fixtures.py
and review its diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import pytest

import symbolicator
from symbolicator.faults import (
    Access,
    FaultAnalysis,
    FaultKind,
    analyze_fault,
    describe_fault,
)
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import (
    dre_trace,
    index_for,
    reference,
    scenario_dirs,
    toolchain_scenario_dirs,
)

SCENARIOS = scenario_dirs() + [s for s in toolchain_scenario_dirs() if s.parent.name[:4] == "cxx-"]
SNAPSHOT = Path(__file__).parent / "snapshots" / "fault_sentences.txt"


class Expected(NamedTuple):
    kind: FaultKind
    exception: str
    causes: list[str]
    address: int | None
    access: Access


# The "Fault" column of the scenario table, plus what each scenario's code does to memory.
EXPECTED = {
    "null_write": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0xC, Access.WRITE),
    "div_zero": Expected(FaultKind.FAULT, "UsageFault", ["DIVBYZERO"], None, Access.NONE),
    "undef_instr": Expected(FaultKind.FAULT, "UsageFault", ["UNDEFINSTR"], None, Access.NONE),
    "invstate": Expected(FaultKind.FAULT, "UsageFault", ["INVSTATE"], "PC", Access.NONE),
    "irq_fault": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x0, Access.READ),
    "assert": Expected(FaultKind.ASSERT, "UsageFault", ["UNDEFINSTR"], None, Access.NONE),
    "fpu_fault": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x10, Access.WRITE),
    "leaf_fault": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x20, Access.READ),
    "stack_overflow": Expected(
        FaultKind.STACK_OVERFLOW,
        "MemManage",
        ["DACCVIOL", "MSTKERR"],
        0x20000278,
        Access.UNKNOWN,  # the frame holding the PC was never written
    ),
    # The C++ builds (cxx-*, tests/firmware/cxx/).
    "virtual_call": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x8, Access.READ),
    "constructor": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x8, Access.READ),
    "destructor": Expected(FaultKind.FAULT, "MemManage", ["DACCVIOL"], 0x18, Access.WRITE),
}


def scenario_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def analyze(scenario: Path, **options):
    coredump = symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())
    index = index_for(scenario.parent.name)
    return analyze_fault(coredump, dre_trace(scenario), index, **options)


def gdb_crashed_frames(scenario: Path) -> list[dict]:
    return next(t for t in reference(scenario)["threads"] if t["crashed"])["frames"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_it_names_the_fault_each_scenario_was_built_to_cause(scenario):
    expected = EXPECTED[scenario.name]
    analysis = analyze(scenario)

    assert analysis.kind == expected.kind
    assert analysis.exception == expected.exception
    assert analysis.cause == expected.causes[0]
    assert analysis.causes == expected.causes
    assert analysis.access == expected.access
    if expected.address == "PC":
        assert analysis.address.source == "PC"
    elif expected.address is not None:
        assert (analysis.address.address, analysis.address.source) == (expected.address, "MMFAR")
    else:
        assert analysis.address is None


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name != "stack_overflow"], ids=scenario_id
)
def test_it_places_the_fault_where_gdb_shows_it(scenario):
    frames = gdb_crashed_frames(scenario)
    if scenario.name == "assert":  # the assert's caller, past dre_assert_failed
        frames = frames[1:]
    place = analyze(scenario).place

    assert (place.function, place.file, place.line) == (
        frames[0]["function"],
        frames[0]["file"],
        frames[0]["line"],
    )


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name == "invstate"], ids=scenario_id
)
def test_a_bad_branch_is_blamed_on_the_function_that_made_it(scenario):
    caller = analyze(scenario).caller

    assert caller.function == gdb_crashed_frames(scenario)[1]["function"] == "command_dispatch"


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name == "irq_fault"], ids=scenario_id
)
def test_a_fault_in_an_isr_names_the_interrupt_and_the_thread(scenario):
    frames = gdb_crashed_frames(scenario)
    handler = frames[[f["type"] for f in frames].index("SIGTRAMP") - 1]["function"]
    context = analyze(scenario).context

    assert (context.mode, context.exception, context.stack) == ("handler", "IRQ 9", "MSP")
    assert context.handler == handler == "Timer1_IRQHandler"
    assert context.thread == "main"


ASSERTED = ("src/scenarios.c", 111, "config->baud_rate <= 115200u")


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name == "assert"], ids=scenario_id)
def test_the_assert_details_come_from_the_handlers_arguments(scenario):
    assertion = analyze(scenario).assertion

    assert (assertion.handler, assertion.source) == ("dre_assert_failed", "arguments")
    assert (assertion.file, assertion.line, assertion.expression) == ASSERTED


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name == "assert"], ids=scenario_id)
def test_without_arguments_the_assert_details_come_from_g_dre_assert(scenario):
    assertion = analyze(scenario, arguments=None).assertion

    assert assertion.source == "g_dre_assert"
    assert (assertion.file, assertion.line, assertion.expression) == ASSERTED


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name == "stack_overflow"], ids=scenario_id
)
def test_the_overflowing_thread_is_named_though_nothing_unwinds(scenario):
    thread = next(t for t in reference(scenario)["threads"] if t["crashed"])
    overflow = analyze(scenario).stack_overflow

    assert (overflow.thread, overflow.stack) == (thread["name"], "PSP")
    assert overflow.stack_base == int(thread["stack_base"], 16)
    assert overflow.sp == int(reference(scenario)["fault"]["psp"], 16) + 0x20
    assert overflow.evidence == ["MSTKERR", "fault_address_in_unused_stack"]


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name == "stack_overflow"], ids=scenario_id
)
def test_the_frames_recovered_below_a_failed_stacking_name_the_recursion(scenario):
    analysis = analyze(scenario)

    assert analysis.place is None  # the faulting pc was never stacked
    assert (analysis.caller.function, analysis.caller.file) == ("parse_nested", "src/scenarios.c")
    assert analysis.stack_overflow.recursion == "parse_nested"
    assert analysis.stack_overflow.recursion_depth > 10


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_a_stored_analysis_is_described_the_same(scenario):
    analysis = analyze(scenario)
    stored = json.loads(json.dumps(analysis.to_dict()))

    assert describe_fault(FaultAnalysis.from_dict(stored)) == describe_fault(analysis)


def test_the_sentences_match_the_snapshot():
    lines = [f"{scenario_id(s)}: {describe_fault(analyze(s))}" for s in SCENARIOS]
    text = SNAPSHOT.read_text().split("\n\n", 1)[0] + "\n\n" + "\n".join(lines) + "\n"
    if os.environ.get("DRE_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text)

    assert SNAPSHOT.read_text() == text


ZEPHYR_SAMPLE = FIXTURES / "zephyr" / "an385-O0-null_write.bin"


@pytest.mark.skipif(not ZEPHYR_SAMPLE.exists(), reason="no Zephyr sample coredump")
def test_a_zephyr_coredump_of_the_same_fault_reads_the_same():
    coredump = symbolicator.parse_coredump(ZEPHYR_SAMPLE.read_bytes())
    index = index_for("an385-O0")
    analysis = analyze_fault(coredump, symbolicator.symbolicate(coredump, index), index)

    assert (analysis.zephyr_reason, analysis.zephyr_reason_name) == (16, "K_ERR_ARM_MEM_GENERIC")
    assert (analysis.exception, analysis.cause, analysis.access) == (
        "MemManage",
        "DACCVIOL",
        Access.WRITE,
    )
    assert describe_fault(analysis) == describe_fault(analyze(FIXTURES / "an385-O0" / "null_write"))

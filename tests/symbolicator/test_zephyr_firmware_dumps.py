"""Zephyr's own coredumps, as the Zephyr replica writes them under QEMU, unwind like GDB live.

Next to its Memfault dump the Zephyr replica writes Zephyr's coredump in the two
layouts real firmware produces (tests/firmware/rtos/zephyr/debug_coredump.c,
tests/fixtures/README.md): `coredump-zephyr-3.4.bin`, whose arch block's sp is the
address of the exception frame and whose r4-r11 are zero, and
`coredump-zephyr-arch-v3.bin`, an arch block version 3 with callee_saved_valid 0.
The reference is GDB attached live at the faulting instruction (gdb.json): the whole
chain down to `z_thread_entry`, then the `0xaaaaaaaa` its unwritten lr slot holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import symbolicator
from tests.symbolicator.gdb_reference import (
    dre_rows,
    gdb_rows,
    index_for,
    reference,
    rtos_scenario_dirs,
)

LAYOUTS = ("coredump-zephyr-3.4.bin", "coredump-zephyr-arch-v3.bin")
ZEPHYR = [s for s in rtos_scenario_dirs() if s.parent.name.startswith("zephyr-")]
THREAD_FAULTS = [s for s in ZEPHYR if s.name != "isr_fault"]
ISR_FAULTS = [s for s in ZEPHYR if s.name == "isr_fault"]
CALLEE_SAVED = tuple(f"r{n}" for n in range(4, 12))
STACKED = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")


def scenario_id(scenario: Path) -> str:
    return f"{scenario.parent.name}/{scenario.name}"


def parsed(scenario: Path, layout: str) -> symbolicator.Coredump:
    return symbolicator.parse_coredump((scenario / layout).read_bytes())


def memfault(scenario: Path) -> symbolicator.Coredump:
    return symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())


def trace_of(scenario: Path, layout: str) -> symbolicator.Trace:
    return symbolicator.symbolicate(parsed(scenario, layout), index_for(scenario.parent.name))


def rows(thread: symbolicator.Thread) -> list[str]:
    return [str(row) for row in dre_rows(thread)]


def gdb_crashed_rows(scenario: Path) -> list[str]:
    return [str(row) for row in gdb_rows(reference(scenario)["threads"][0])]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scenario", THREAD_FAULTS, ids=scenario_id)
def test_the_crashed_thread_unwinds_to_its_entry_like_gdb_live(scenario, layout):
    crashed = trace_of(scenario, layout).threads[0]

    assert rows(crashed) == gdb_crashed_rows(scenario)
    assert [f.function for f in crashed.frames][-2:] == ["z_thread_entry", None]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scenario", ISR_FAULTS, ids=scenario_id)
def test_a_fault_in_an_isr_unwinds_to_the_exception_frame_and_says_why_it_stops(scenario, layout):
    """The ISR ran on MSP; the interrupted thread's PSP is in no Zephyr block."""
    crashed = trace_of(scenario, layout).threads[0]
    got, expected = rows(crashed), gdb_crashed_rows(scenario)

    assert got == expected[: len(got)]
    assert got[-1].startswith("exception 0xfffffffd")
    assert crashed.stop_reason == "the PSP value is not known"


@pytest.mark.parametrize("scenario", ZEPHYR, ids=scenario_id)
def test_a_zephyr_3_4_dump_is_unwound_from_above_its_exception_frame(scenario):
    """Its sp is the frame's address; the interrupted code's SP is the one the
    Memfault dump of the same fault recorded."""
    coredump = parsed(scenario, LAYOUTS[0])
    hint = trace_of(scenario, LAYOUTS[0]).threads[0].frames[0].hint

    assert coredump.registers["sp"] == memfault(scenario).registers["sp"]
    assert coredump.extra["zephyr_exception_frame"] == coredump.registers["sp"] - 0x20
    assert "is the exception frame (as Zephyr 3.4 writes it)" in hint


@pytest.mark.parametrize("scenario", ZEPHYR, ids=scenario_id)
def test_an_arch_v3_dump_keeps_r4_to_r11_although_callee_saved_valid_is_0(scenario):
    coredump = parsed(scenario, LAYOUTS[1])
    expected = memfault(scenario).registers

    assert coredump.extra["zephyr_callee_saved_valid"] == 0
    assert coredump.extra["zephyr_callee_saved_offset"] == 40  # struct k_thread
    assert {r: coredump.registers[r] for r in CALLEE_SAVED + STACKED + ("sp",)} == {
        r: expected[r] for r in CALLEE_SAVED + STACKED + ("sp",)
    }
    assert "zephyr_exception_frame" not in coredump.extra


@pytest.mark.parametrize("scenario", [s for s in ZEPHYR if "-O0" in str(s)], ids=scenario_id)
def test_unoptimized_frames_found_without_r7_are_marked(scenario):
    """The 3.4 dump has no r4-r11; the faulting function's CFA needs r7 at -O0."""
    hints = [frame.hint for frame in trace_of(scenario, LAYOUTS[0]).threads[0].frames]

    assert "(r7, which the CFI needs, is unknown)" in hints[1]
    assert "CFI" in hints[2:]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scenario", ZEPHYR, ids=scenario_id)
def test_the_other_threads_unwind_as_in_the_memfault_dump(scenario, layout):
    trace = trace_of(scenario, layout)
    expected = symbolicator.symbolicate(memfault(scenario), index_for(scenario.parent.name))

    assert [t.name for t in trace.threads] == [t.name for t in expected.threads]
    assert [rows(t) for t in trace.threads[1:]] == [rows(t) for t in expected.threads[1:]]


@pytest.mark.parametrize("scenario", [s for s in ZEPHYR if s.name == "oops"], ids=scenario_id)
def test_k_oops_is_an_error_raised_through_svc_in_the_function_that_called_it(scenario):
    for layout in LAYOUTS:
        coredump = parsed(scenario, layout)
        trace = symbolicator.symbolicate(coredump, index_for(scenario.parent.name))

        assert coredump.extra["zephyr_reason"] == {"code": 3, "name": "K_ERR_KERNEL_OOPS"}
        assert trace.threads[0].frames[0].function == "storage_check"


@pytest.mark.parametrize("scenario", ZEPHYR, ids=scenario_id)
def test_the_dumps_are_the_bytes_the_firmware_wrote(scenario):
    """Sizes as gdb.json recorded them at coredump_saved; the headers of the layouts."""
    recorded = {d["file"]: d["size"] for d in reference(scenario)["coredump"]["zephyr"]}
    old, new = ((scenario / layout).read_bytes() for layout in LAYOUTS)

    assert recorded == {layout: len((scenario / layout).read_bytes()) for layout in LAYOUTS}
    assert (old[:4], old[12:15]) == (b"ZE\x01\x00", b"A\x02\x00")  # header v1, arch v2
    assert (new[:4], new[12:15]) == (b"ZE\x02\x00", b"A\x03\x00")  # header v2, arch v3
    assert not parsed(scenario, LAYOUTS[1]).warnings


def zephyr_3_4_log(binary: bytes) -> bytes:
    """The logging backend's output as Zephyr 3.4 prints it with default logging: a
    timestamp, ANSI colour around `<err> coredump: `, CRLF line ends
    (zephyr-coredumps-in-practice.md, "Logs")."""
    lines = ["*** Booting Zephyr OS build v3.4.0 ***"]
    for body in ["BEGIN#", *(binary[at : at + 64].hex() for at in range(0, len(binary), 64))]:
        lines.append(f"[00:00:00.110,000] \x1b[1;31m<err> coredump: \x1b[0m#CD:{body}")
    lines.append("[00:00:00.110,000] \x1b[1;31m<err> coredump: \x1b[0m#CD:END#")
    return "\r\n".join([*lines, ""]).encode()


@pytest.mark.parametrize("scenario", THREAD_FAULTS, ids=scenario_id)
def test_a_decorated_3_4_log_of_the_dump_unwinds_the_same(scenario):
    binary = (scenario / LAYOUTS[0]).read_bytes()
    coredump = symbolicator.parse_coredump(zephyr_3_4_log(binary))
    trace = symbolicator.symbolicate(coredump, index_for(scenario.parent.name))

    assert coredump.extra["zephyr_container"] == "log"
    assert rows(trace.threads[0]) == gdb_crashed_rows(scenario)

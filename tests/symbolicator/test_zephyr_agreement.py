"""Zephyr coredumps of the firmware fixtures unwind like GDB, as the Memfault ones do.

The fixtures' coredumps are Memfault ones (tests/fixtures/README.md), but both
formats describe a fault the same way: r0-r3, r12, lr, pc and xpsr from the
exception frame, r4-r11 as they were, sp from before the frame was pushed,
plus memory. `zephyr_from_memfault` re-encodes a fixture as the Zephyr
firmware would have written it (cortex-m-unwinding.md 5.1), so the GDB
reference of every scenario checks the Zephyr path too. What the Zephyr format
cannot carry, it drops: msp/psp (no field for them), build id and versions (no
block), and r4-r11 for arch block version 1.

Run `.venv/bin/python -m tests.symbolicator.test_zephyr_agreement` to rewrite
the sample dumps in tests/fixtures/zephyr/ (see the README there).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import symbolicator
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import (
    comparable,
    dre_rows,
    dre_trace,
    gdb_rows,
    index_for,
    reference,
    scenario_dirs,
)
from tests.symbolicator.test_coredump_zephyr import (
    BASIC,
    CALLEE_SAVED,
    arch_block,
    log_lines,
    memory_block,
    zephyr_coredump,
)

SCENARIOS = scenario_dirs()
# The fault in irq_fault happens in an ISR, so the dump's sp is the MSP; the
# thread the ISR interrupted is on the PSP, which no Zephyr block records.
ISR_SCENARIOS = [s for s in SCENARIOS if s.name == "irq_fault"]
THREAD_SCENARIOS = [s for s in SCENARIOS if s.name != "irq_fault"]
ZEPHYR_FIXTURES = FIXTURES / "zephyr"

# The fixture firmware's Memfault trace reasons as Zephyr (>= 3.3) would report
# the same faults (6.4): the generic ARM fault codes, and k_panic() for an assert.
ZEPHYR_REASONS = {
    0x9100: 22,  # K_ERR_ARM_BUS_GENERIC
    0x9200: 16,  # K_ERR_ARM_MEM_GENERIC
    0x9300: 29,  # K_ERR_ARM_USAGE_GENERIC
    0x9400: 0,  # K_ERR_CPU_EXCEPTION
    0x8001: 4,  # K_ERR_KERNEL_PANIC, what Zephyr's __ASSERT ends in
}


def zephyr_from_memfault(
    coredump: symbolicator.Coredump,
    *,
    arch_version: int = 2,
    crc: bool = False,
    exception_frame: int | None = None,
) -> bytes:
    """A Zephyr coredump (header version 2, ARM Cortex-M) of a parsed Memfault one.

    1. Header: target code 3, 32-bit pointers, flag bit 0 when a CRC trailer follows,
       the Zephyr reason of the Memfault trace reason.
    2. One 'A' block of `arch_version`: r0-r3, r12, lr, pc, xpsr, sp; r4-r11 from
       version 2 on; version 3 adds callee_saved_valid = 1 and callee_saved_offset = 0
       (the firmware has no struct k_thread).
    3. One 'M' block per memory region, in the Memfault dump's order.
    4. With `crc`, the 'C' trailer.

    With `exception_frame`, sp is that address, as Zephyr 3.4 writes it.
    """
    registers = dict(coredump.registers)
    if exception_frame is not None:
        registers["sp"] = exception_frame
    names = BASIC if arch_version == 1 else BASIC + CALLEE_SAVED
    words = [registers[name] for name in names] + ([1, 0] if arch_version == 3 else [])
    blocks = [arch_block(arch_version, words)]
    blocks += [memory_block(region.address, region.data) for region in coredump.regions]
    reason = ZEPHYR_REASONS[coredump.trace_reason]
    return zephyr_coredump(*blocks, crc=crc, reason=reason)


def zephyr_log(binary: bytes) -> bytes:
    """The dump as the logging backend prints it, inside other log output."""
    lines = log_lines(binary, width=32)
    lines.insert(len(lines) // 2, "[00:00:01.123,500] <inf> app: a line from another thread")
    boot = ["*** Booting Zephyr OS build v4.1.0 ***", "[00:00:01.123,000] <err> os: fault"]
    return "\n".join([*boot, *lines, ""]).encode()


def memfault(scenario: Path) -> symbolicator.Coredump:
    return symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())


def zephyr_trace(scenario: Path, data: bytes) -> symbolicator.Trace:
    return symbolicator.symbolicate(
        symbolicator.parse_coredump(data), index_for(scenario.parent.name)
    )


FORMS = {
    "binary-arch-v2": lambda c: zephyr_from_memfault(c, arch_version=2),
    "log-arch-v3-crc": lambda c: zephyr_log(zephyr_from_memfault(c, arch_version=3, crc=True)),
}


def rows(thread: symbolicator.Thread, scenario: Path | None = None) -> list[str]:
    found = [str(row) for row in dre_rows(thread)]
    if scenario is None:
        return found
    return comparable(scenario, found, len(crashed_gdb_rows(scenario)), thread.crashed)


def crashed_gdb_rows(scenario: Path) -> list[str]:
    return [str(row) for row in gdb_rows(reference(scenario)["threads"][0])]


def scenario_id(scenario: Path) -> str:
    return f"{scenario.parent.name}/{scenario.name}"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("scenario", THREAD_SCENARIOS, ids=scenario_id)
def test_the_crashed_thread_matches_gdb_frame_for_frame(scenario, form):
    trace = zephyr_trace(scenario, FORMS[form](memfault(scenario)))

    assert rows(trace.threads[0], scenario) == crashed_gdb_rows(scenario)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_the_other_threads_match_the_memfault_form(scenario, form):
    trace = zephyr_trace(scenario, FORMS[form](memfault(scenario)))
    expected = dre_trace(scenario)

    assert [t.name for t in trace.threads] == [t.name for t in expected.threads]
    assert [rows(t) for t in trace.threads[1:]] == [rows(t) for t in expected.threads[1:]]


@pytest.mark.parametrize("scenario", ISR_SCENARIOS, ids=scenario_id)
def test_a_fault_in_an_isr_unwinds_to_the_exception_frame_and_says_why_it_stops(scenario):
    trace = zephyr_trace(scenario, zephyr_from_memfault(memfault(scenario)))
    got, expected = rows(trace.threads[0], scenario), crashed_gdb_rows(scenario)

    assert got == expected[: len(got)]
    assert got[-1].startswith("exception 0xfffffffd")
    assert trace.threads[0].stop_reason == "the PSP value is not known"


@pytest.mark.parametrize(
    "scenario", [s for s in THREAD_SCENARIOS if s.parent.name.endswith("-O2")], ids=scenario_id
)
def test_a_v1_arch_block_without_r4_to_r11_still_unwinds_optimized_code_like_gdb(scenario):
    """At -O2 every CFA is SP-based, so the unknown r4-r11 are never needed."""
    trace = zephyr_trace(scenario, zephyr_from_memfault(memfault(scenario), arch_version=1))

    assert rows(trace.threads[0], scenario) == crashed_gdb_rows(scenario)


@pytest.mark.parametrize(
    "scenario", [s for s in THREAD_SCENARIOS if s.parent.name.endswith("-O0")], ids=scenario_id
)
def test_a_v1_arch_block_unwinds_unoptimized_code_like_gdb_without_r7(scenario):
    """At -O0 a function's CFA is r7-based once its prologue has run (5.1), and a v1
    block has no r7: prologue analysis takes over where the CFI needs it, and recovers
    the saved r7 for the CFI of the frames further out."""
    trace = zephyr_trace(scenario, zephyr_from_memfault(memfault(scenario), arch_version=1))

    assert rows(trace.threads[0], scenario) == crashed_gdb_rows(scenario)


def test_a_v1_arch_block_marks_the_frames_found_without_r7():
    scenario = FIXTURES / "an385-O0" / "null_write"
    trace = zephyr_trace(scenario, zephyr_from_memfault(memfault(scenario), arch_version=1))
    hints = [frame.hint for frame in trace.threads[0].frames]

    # record_word_store pushes only r7 (a leaf): prologue analysis finds its return
    # address in LR, and the saved r7 lets the CFI take over again.
    assert hints[:3] == [
        "registers from the coredump",
        "LR: leaf function (r7, which the CFI needs, is unknown)",
        "CFI",
    ]


def exception_frame_of(scenario: Path) -> int:
    """Where the core stacked the fault's exception frame: the pre-exception SP less the
    frame GDB's EXC_RETURN (lr at fault_snapshot_taken) says it was, less the alignment
    word (B1.5.7)."""
    exc_return = int(reference(scenario)["fault"]["handler_frames"][0]["registers"]["lr"], 16)
    registers = memfault(scenario).registers
    size = 0x20 if exc_return & 0x10 else 0x68
    return registers["sp"] - size - (4 if registers["xpsr"] & 0x200 else 0)


@pytest.mark.parametrize("scenario", THREAD_SCENARIOS, ids=scenario_id)
def test_an_sp_at_the_exception_frame_unwinds_like_gdb_basic_or_fpu_extended(scenario):
    """The Memfault dumps keep FPCCR and FPCAR: with lazy stacking pending, they say
    which frames are FPU extended (an386 fpu_fault, an386-O0 null_write)."""
    frame = exception_frame_of(scenario)
    data = zephyr_from_memfault(memfault(scenario), exception_frame=frame)
    coredump = symbolicator.parse_coredump(data)
    trace = zephyr_trace(scenario, data)

    assert coredump.extra["zephyr_exception_frame"] == frame
    assert coredump.registers["sp"] == memfault(scenario).registers["sp"]
    assert rows(trace.threads[0], scenario) == crashed_gdb_rows(scenario)


def test_an_fpu_extended_exception_frame_is_named_in_the_hint():
    scenario = FIXTURES / "an386-O2" / "fpu_fault"
    data = zephyr_from_memfault(memfault(scenario), exception_frame=exception_frame_of(scenario))

    assert (
        "above it the FPU extended frame" in zephyr_trace(scenario, data).threads[0].frames[0].hint
    )


# -- the sample dumps in tests/fixtures/zephyr/ ----------------------------------

SAMPLES = {
    "an385-O0-null_write.bin": ("an385-O0/null_write", FORMS["binary-arch-v2"]),
    "an386-O2-fpu_fault.log": ("an386-O2/fpu_fault", FORMS["log-arch-v3-crc"]),
}


def sample(name: str) -> tuple[Path, bytes]:
    """The sample's fixture scenario and the bytes the converter makes of it."""
    scenario, encode = SAMPLES[name]
    return FIXTURES / scenario, encode(memfault(FIXTURES / scenario))


def write_samples() -> None:
    ZEPHYR_FIXTURES.mkdir(exist_ok=True)
    for name in SAMPLES:
        (ZEPHYR_FIXTURES / name).write_bytes(sample(name)[1])


@pytest.mark.parametrize("name", SAMPLES)
def test_the_committed_samples_are_what_the_converter_writes(name):
    assert (ZEPHYR_FIXTURES / name).read_bytes() == sample(name)[1]


@pytest.mark.parametrize("name", SAMPLES)
def test_the_committed_samples_match_gdb(name):
    scenario = sample(name)[0]
    trace = zephyr_trace(scenario, (ZEPHYR_FIXTURES / name).read_bytes())

    assert rows(trace.threads[0], scenario) == crashed_gdb_rows(scenario)


def test_the_committed_samples_say_what_their_headers_say():
    binary = symbolicator.parse_coredump((ZEPHYR_FIXTURES / "an385-O0-null_write.bin").read_bytes())
    log = symbolicator.parse_coredump((ZEPHYR_FIXTURES / "an386-O2-fpu_fault.log").read_bytes())

    assert (binary.format, binary.extra["zephyr_container"]) == ("zephyr-v2", "binary")
    assert binary.extra["zephyr_reason"] == {"code": 16, "name": "K_ERR_ARM_MEM_GENERIC"}
    assert binary.trace_reason == 0x9200
    assert (log.format, log.extra["zephyr_container"]) == ("zephyr-v2", "log")
    assert (log.extra["zephyr_arch_version"], log.extra["zephyr_flags"]) == (3, 1)
    assert binary.warnings == log.warnings == []
    assert not binary.truncated
    assert not log.truncated


if __name__ == "__main__":
    write_samples()

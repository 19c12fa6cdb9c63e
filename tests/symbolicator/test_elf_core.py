"""The ELF core export (symbolicator/export/elf_core.py), byte by byte and through GDB.

For every fixture, the FreeRTOS and Zephyr builds included, the core is exported with
dre's index, gdb-multiarch reads it once in batch mode next to the firmware ELF (`thread
apply all bt`), and each thread's backtrace is compared with dre's `bt` lines (hints off)
and with the fixture's GDB reference, recorded live on QEMU (tests/fixtures/README.md).
Without the two handler frames the live session starts with, the crashed thread's lines
are the same.

Known differences, each asserted as narrowly as it can be:
- irq_fault (isr_fault in the RTOS builds): the fault happened in an ISR that had
  interrupted a thread running on PSP. A core cannot give GDB the PSP (elf_core.py says
  why), so GDB agrees up to and including the first <signal handler called>, then reads
  the thread's frame from the wrong stack.
- stack_overflow: dre recovers the frames after the garbage by scanning the stack
  (test_gdb_agreement.py); GDB on the core stops where GDB stopped live.
- freertos-an386-O2: below a thread's last frame, a return address in no function
  (`0x00000dc4 in ?? ()`), GDB on the core adds "Backtrace stopped: previous frame
  identical to this frame" where GDB live stopped silently. Past a pc in no function GDB
  unwinds by prologue heuristics from registers carried down unchanged, which the live
  target had and the dump does not; the frames themselves agree.
- an386-O2/fpu_fault: two arguments live in FPU registers a Memfault dump does not hold.
  GDB on the core says <unavailable>, dre <not captured>, the live session had values.

Tests that run GDB need gdb-multiarch (the `gdb` fixture): they skip without it, and fail when
DRE_REQUIRE_SERVICES=1 (CI), which must install it.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

import symbolicator
from symbolicator.export import core_threads, elf_core
from symbolicator.export.elf_core import target_description
from symbolicator.format import backtrace_lines
from tests.firmware_fixtures import coredump_path
from tests.symbolicator.gdb_reference import (
    NOT_CAPTURED,
    STACKING_FAILED,
    dre_trace,
    index_for,
    reference,
    rtos_scenario_dirs,
    scenario_dirs,
    toolchain_scenario_dirs,
    without_gdb_warnings,
)

SCENARIOS = scenario_dirs() + rtos_scenario_dirs() + toolchain_scenario_dirs()
NESTED_IN_ISR = {"irq_fault", "isr_fault"}  # own scheduler, RTOS builds
ENDS_IN_NO_FUNCTION = "freertos-an386-O2"
SIGTRAMP = "<signal handler called>"


def _coredump(build="an385-O2", scenario="null_write") -> symbolicator.Coredump:
    return symbolicator.parse_coredump(coredump_path(build, scenario).read_bytes())


def _elf(data: bytes) -> ELFFile:
    return ELFFile(io.BytesIO(data))


def _notes(data: bytes) -> list:
    return [n for segment in _elf(data).iter_segments("PT_NOTE") for n in segment.iter_notes()]


# Byte level: pyelftools reads the file as an independent ELF reader.


def test_it_writes_an_elf32_little_endian_arm_core_file():
    elf = _elf(elf_core(_coredump()))

    # gABI "ELF Header": ELFCLASS32, ELFDATA2LSB; EM_ARM = 40; no section headers
    assert elf.elfclass == 32
    assert elf.little_endian
    assert elf["e_type"] == "ET_CORE"
    assert elf["e_machine"] == "EM_ARM"
    assert elf["e_shnum"] == 0


def test_it_puts_every_captured_region_in_a_pt_load_at_its_address():
    coredump = _coredump()
    loads = list(_elf(elf_core(coredump)).iter_segments("PT_LOAD"))

    assert [(s["p_vaddr"], s.data()) for s in loads] == [
        (r.address, r.data) for r in coredump.regions
    ]
    assert all(s["p_filesz"] == s["p_memsz"] for s in loads)


def test_it_writes_one_prstatus_per_thread_crashed_first():
    coredump = _coredump()
    index = index_for("an385-O2")
    statuses = [n for n in _notes(elf_core(coredump, index)) if n["n_type"] == "NT_PRSTATUS"]

    # Linux/ARM struct elf_prstatus: 148 bytes, pr_pid at 24, pr_reg (18 words) at 72
    assert [n["n_descsz"] for n in statuses] == [148] * 4
    assert [struct.unpack_from("<I", n["n_descdata"], 24)[0] for n in statuses] == [1, 2, 3, 4]
    desc = statuses[0]["n_descdata"]
    names = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr"]
    assert struct.unpack_from("<17I", desc, 72) == tuple(coredump.registers[n] for n in names)


def test_it_exports_only_the_crashed_thread_without_an_index():
    threads = core_threads(_coredump())

    assert [(t.lwp, t.name) for t in threads] == [(1, "main")]


def test_it_exports_every_thread_with_a_saved_context():
    threads = core_threads(_coredump(), index_for("an385-O2"))

    assert [(t.lwp, t.name) for t in threads] == [
        (1, "main"),
        (2, "sensor"),
        (3, "comms"),
        (4, "logger"),
    ]


def test_it_writes_no_prpsinfo_whose_program_name_gdb_would_compare_with_the_elfs():
    assert "NT_PRPSINFO" not in [n["n_type"] for n in _notes(elf_core(_coredump()))]


def test_it_describes_an_m_profile_target_on_the_bare_metal_abi_without_msp_psp():
    (tdesc,) = [n for n in _notes(elf_core(_coredump())) if n["n_name"] == "GDB"]
    target = ET.fromstring(tdesc["n_descdata"].rstrip(b"\0"))

    assert tdesc["n_type"] == 0xFF000000  # NT_GDB_TDESC
    assert target.findtext("osabi") == "none"
    assert [f.get("name") for f in target.iter("feature")] == ["org.gnu.gdb.arm.m-profile"]
    registers = [r.get("name") for r in target.iter("reg")]
    assert registers == [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr"]


def test_it_adds_the_vfp_registers_when_the_fpu_was_enabled():
    target = ET.fromstring(target_description(_coredump("an386-O2")))

    vfp = target.find("feature[@name='org.gnu.gdb.arm.vfp']")
    assert [r.get("name") for r in vfp.iter("reg")] == [f"d{n}" for n in range(16)] + ["fpscr"]


# Through GDB: one gdb-multiarch run per fixture, shared by the tests below.


@dataclass
class GdbCore:
    current: int | None = None  # the lwp GDB selected when it opened the core
    threads: dict[int, list[str]] = field(default_factory=dict)  # lwp -> bt lines


@cache
def gdb_on_core(gdb: str, scenario: Path) -> GdbCore:
    """`gdb-multiarch -batch firmware.elf CORE -ex 'thread apply all bt'`, parsed."""
    coredump = symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        core = Path(tmp) / "core"
        core.write_bytes(elf_core(coredump, index_for(scenario.parent.name)))
        result = subprocess.run(
            [gdb, "-nx", "-batch", "-iex", "set debuginfod enabled off",
             "-ex", "thread apply all bt", scenario.parent / "firmware.elf", core],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    return parse_gdb(without_gdb_warnings(result.stdout + "\n"))


def parse_gdb(output: str) -> GdbCore:
    parsed = GdbCore()
    lines = None
    for line in output.splitlines():
        if selected := re.match(r"\[Current thread is \d+ \((?:process|LWP) (\d+)\)\]", line):
            parsed.current = int(selected.group(1))
        elif header := re.match(r"Thread \d+ \((?:process|LWP) (\d+)\):", line):
            lines = parsed.threads.setdefault(int(header.group(1)), [])
        elif lines is not None and line.startswith(("#", "Backtrace stopped")):
            lines.append(re.sub(r"^#\d+ +", "", line))
    return parsed


def frames_only(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("Backtrace stopped")]


def reference_lines(scenario: Path, thread: dict) -> list[str]:
    """The live `bt` without levels, from the thread's first frame (for the crashed thread,
    after the fault handler's own two frames); values a coredump lacks made <unknown>."""
    first = thread["frames"][0]["level"]
    uncaptured = [
        (level, name)
        for key, thread_name, level, name in NOT_CAPTURED
        if (key, thread_name) == (scenario_id(scenario), thread["name"])
    ]
    out = []
    for line in without_gdb_warnings(thread["bt"]).splitlines():
        if line.startswith("Backtrace stopped"):
            out.append(line)
        elif (level := re.match(r"#(\d+) +", line)) and int(level.group(1)) >= first:
            text = line[level.end() :]
            for name in (name for at, name in uncaptured if at == int(level.group(1))):
                text = re.sub(rf"\b{name}=({name}@entry=)?[^,)]+", f"{name}=<unknown>", text)
            out.append(text)
    return out


def unknown_values(lines: list[str]) -> list[str]:
    """GDB's `x=x@entry=<unavailable>` and dre's `x=<not captured>` say the same thing."""
    pattern = r"\b(\w+)=(?:\1@entry=)?<(?:unavailable|not captured)>"
    return [re.sub(pattern, r"\1=<unknown>", line) for line in lines]


def dre_lines(thread: symbolicator.Thread) -> list[str]:
    return [re.sub(r"^#\d+ +", "", line) for line in backtrace_lines(thread.frames, hints=False)]


def until_first_sigtramp(lines: list[str]) -> list[str]:
    return lines[: lines.index(SIGTRAMP) + 1]


def scenario_id(scenario: Path) -> str:
    return f"{scenario.parent.name}/{scenario.name}"


def exported(scenario: Path) -> list:
    coredump = symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())
    return core_threads(coredump, index_for(scenario.parent.name))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_gdb_loads_every_thread_with_the_crashed_one_selected(gdb, scenario):
    loaded = gdb_on_core(gdb, scenario)

    assert loaded.current == 1
    assert sorted(loaded.threads) == [thread.lwp for thread in exported(scenario)]
    assert all(loaded.threads.values())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_gdb_on_the_core_prints_dres_backtrace_for_every_thread(gdb, scenario):
    loaded = gdb_on_core(gdb, scenario)
    dre = {thread.name: thread for thread in dre_trace(scenario).threads}
    for thread in exported(scenario):
        got = unknown_values(frames_only(loaded.threads[thread.lwp]))
        expected = unknown_values(dre_lines(dre[thread.name]))
        if thread.lwp == 1 and scenario.name in NESTED_IN_ISR:
            got, expected = until_first_sigtramp(got), until_first_sigtramp(expected)
        elif thread.lwp == 1 and scenario.name == STACKING_FAILED:
            expected = expected[: len(got)]
        assert got == expected, f"thread {thread.name}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_gdb_on_the_core_prints_what_gdb_printed_live(gdb, scenario):
    loaded = gdb_on_core(gdb, scenario)
    live = {thread["name"]: thread for thread in reference(scenario)["threads"]}
    for thread in exported(scenario):
        got = unknown_values(loaded.threads[thread.lwp])
        expected = reference_lines(scenario, live[thread.name])
        if thread.lwp == 1 and scenario.name in NESTED_IN_ISR:
            got, expected = until_first_sigtramp(got), until_first_sigtramp(expected)
        if scenario.parent.name == ENDS_IN_NO_FUNCTION and got[-2].endswith(" in ?? ()"):
            got = frames_only(got)
        assert got == expected, f"thread {thread.name}"

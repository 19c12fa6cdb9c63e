"""python -m symbolicator ELF COREDUMP prints GDB's `bt` for every thread, plus hints."""

import re
import subprocess
import sys

import pytest

from symbolicator.__main__ import main
from tests.symbolicator.gdb_reference import (
    NOT_CAPTURED,
    STACKING_FAILED,
    reference,
    rtos_scenario_dirs,
    scenario_dirs,
    toolchain_scenario_dirs,
    without_gdb_warnings,
)

HINT = re.compile(r"  \[[^\]]*\]$")


def gdb_backtraces(scenario) -> list[list[str]]:
    """GDB's bt per thread, renumbered: the crashed thread starts after the fault
    handler's frame and its <signal handler called>, as the coredump does. Arguments
    GDB read from live FPU registers read <not captured> (see NOT_CAPTURED)."""
    threads = []
    for n, thread in enumerate(reference(scenario)["threads"]):
        lines = [
            line for line in without_gdb_warnings(thread["bt"]).splitlines() if line.startswith("#")
        ]
        if n == 0:
            lines = lines[2:]
        key = f"{scenario.parent.name}/{scenario.name}"
        threads.append([uncaptured(key, thread["name"], line) for line in lines])
    return threads


def uncaptured(key: str, thread: str, line: str) -> str:
    level = int(line[1:].split()[0])
    line = re.sub(r"^#\d+ +", "", line)
    for scenario, name, frame, variable in NOT_CAPTURED:
        if (scenario, name, frame) == (key, thread, level):
            line = re.sub(rf"\b{variable}=[^,)]*", f"{variable}=<not captured>", line)
    return line


def dre_backtraces(output: str) -> list[list[str]]:
    threads = []
    for line in output.splitlines():
        if line.startswith("Thread "):
            threads.append([])
        elif line.startswith("#"):
            threads[-1].append(re.sub(r"^#\d+ +", "", HINT.sub("", line)))
    return threads


@pytest.mark.parametrize(
    "scenario",
    scenario_dirs() + rtos_scenario_dirs() + toolchain_scenario_dirs(),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_backtrace_line_is_gdbs(scenario, capsys):
    assert main([str(scenario.parent / "firmware.elf"), str(scenario / "coredump.bin")]) == 0
    ours = dre_backtraces(capsys.readouterr().out)
    for expected, actual in zip(gdb_backtraces(scenario), ours, strict=True):
        if scenario.name == STACKING_FAILED:
            actual = actual[: len(expected)]
        assert actual == expected


def test_it_prints_hints_and_stop_reasons():
    scenario = next(
        s for s in scenario_dirs() if s.parent.name == "an385-O2" and s.name == "irq_fault"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "symbolicator",
            str(scenario.parent / "firmware.elf"),
            str(scenario / "coredump.bin"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        "<signal handler called>  [EXC_RETURN 0xfffffffd: exception frame (PSP, basic)]"
        in result.stdout
    )
    assert "[tail call (DWARF call sites)]" in result.stdout
    assert "Backtrace stopped: outermost frame" in result.stdout


def test_it_explains_unreadable_input(tmp_path, capsys):
    bogus = tmp_path / "core.bin"
    bogus.write_bytes(b"not a coredump")
    elf = scenario_dirs()[0].parent / "firmware.elf"

    assert main([str(elf), str(bogus)]) == 1
    assert "unrecognized coredump format" in capsys.readouterr().err


def test_it_answers_like_addr2line(capsys):
    elf = scenario_dirs()[0].parent / "firmware.elf"
    main(["addr2line", str(elf), "0x400"])

    assert capsys.readouterr().out.splitlines()[1] == "./src/app.c:56"


def test_it_writes_an_elf_core_and_names_gdbs_threads(tmp_path, capsys):
    scenario = scenario_dirs()[0]
    core = tmp_path / "core.elf"

    assert (
        main(
            [
                str(scenario.parent / "firmware.elf"),
                str(scenario / "coredump.bin"),
                "--elf-core",
                str(core),
            ]
        )
        == 0
    )

    assert core.read_bytes()[:4] == b"\x7fELF"
    assert "GDB thread 1: main" in capsys.readouterr().err.splitlines()

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


def frame_groups(lines: list[str]) -> list[list[str]]:
    """A bt full listing as one group per frame: its line, then its locals lines."""
    groups = []
    for line in lines:
        if line.startswith("#"):
            groups.append([line])
        elif groups and line and not line.startswith("Backtrace stopped"):
            groups[-1].append(line)
    return groups


def gdb_full_backtraces(scenario) -> list[list[list[str]]]:
    """GDB's bt full per thread, renumbered like gdb_backtraces; locals GDB read from
    live FPU registers read <not captured> (see NOT_CAPTURED)."""
    key = f"{scenario.parent.name}/{scenario.name}"
    threads = []
    for n, thread in enumerate(reference(scenario)["threads"]):
        groups = frame_groups(thread["bt_full"].splitlines())
        if n == 0:
            groups = groups[2:]
        threads.append([full_group(key, thread["name"], group) for group in groups])
    return threads


def full_group(key: str, thread: str, group: list[str]) -> list[str]:
    level = int(group[0][1:].split()[0])
    lines = [uncaptured(key, thread, group[0])]
    for line in group[1:]:
        name = line.strip().split(" = ", 1)[0]
        if (key, thread, level, name) in NOT_CAPTURED:
            line = f"        {name} = <not captured>"
        lines.append(line)
    return lines


def dre_full_backtraces(output: str) -> list[list[list[str]]]:
    threads, current = [], None
    for line in output.splitlines():
        if line.startswith("Thread "):
            current = []
            threads.append(current)
        elif current is not None:
            current.append(line)
    return [
        [[re.sub(r"^#\d+ +", "", group[0]), *group[1:]] for group in frame_groups(lines)]
        for lines in threads
    ]


@pytest.mark.parametrize(
    "scenario", scenario_dirs() + rtos_scenario_dirs(), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_full_prints_every_frames_locals_as_gdbs_bt_full(scenario, capsys):
    elf, coredump = str(scenario.parent / "firmware.elf"), str(scenario / "coredump.bin")
    assert main([elf, coredump, "--full", "--no-hints"]) == 0
    ours = dre_full_backtraces(capsys.readouterr().out)
    for expected, actual in zip(gdb_full_backtraces(scenario), ours, strict=True):
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

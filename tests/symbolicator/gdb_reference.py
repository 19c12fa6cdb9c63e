"""Reading the GDB reference of a fixture (tests/fixtures/README.md) into comparable rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import symbolicator
from tests.firmware_fixtures import FIXTURES

GDB_KINDS = {
    "NORMAL": "normal",
    "INLINE": "inline",
    "SIGTRAMP": "exception",
    "TAILCALL": "tailcall",
}


@dataclass(frozen=True)
class Row:
    """One frame as both sides can state it."""

    kind: str
    pc: int
    function: str | None
    file: str | None
    line: int | None

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.file else "??"
        return f"{self.kind:9} 0x{self.pc:08x} {self.function or '??'} at {where}"


def scenario_dirs() -> list[Path]:
    """The test firmware's own scheduler (the symbolicator issue's fixtures), in C and in
    C++ (cxx-*)."""
    found = [*FIXTURES.glob("an38*-O*/*/gdb.json"), *FIXTURES.glob("cxx-an38*-O*/*/gdb.json")]
    return sorted(p.parent for p in found)


def rtos_scenario_dirs() -> list[Path]:
    """The FreeRTOS and Zephyr look-alike builds."""
    found = [
        *FIXTURES.glob("freertos-an38*-O*/*/gdb.json"),
        *FIXTURES.glob("zephyr-an38*-O*/*/gdb.json"),
    ]
    return sorted(p.parent for p in found)


def reference(scenario: Path) -> dict:
    return json.loads((scenario / "gdb.json").read_text())


def gdb_rows(thread: dict) -> list[Row]:
    return [
        Row(
            GDB_KINDS[f["type"]],
            int(f["pc"], 16),
            f["function"],
            f["file"],
            f["line"],
        )
        for f in thread["frames"]
    ]


def dre_rows(thread: symbolicator.Thread) -> list[Row]:
    return [
        Row(
            f.kind.value,
            f.pc,
            f.function,
            f.location.file if f.location else None,
            f.location.line if f.location else None,
        )
        for f in thread.frames
    ]


@cache
def index_for(build: str) -> symbolicator.SymbolIndex:
    """The fixture ELF's index, stored and loaded again as a worker would."""
    built = symbolicator.build_index((FIXTURES / build / "firmware.elf").read_bytes())
    return symbolicator.SymbolIndex.from_bytes(built.to_bytes())


def dre_trace(scenario: Path) -> symbolicator.Trace:
    coredump = symbolicator.parse_coredump((scenario / "coredump.bin").read_bytes())
    return symbolicator.symbolicate(coredump, index_for(scenario.parent.name))


# The one scenario where dre shows more frames than GDB on purpose: the core could not
# stack the exception frame, GDB stops on the garbage, dre scans the stack.
STACKING_FAILED = "stack_overflow"


def comparable(scenario: Path, rows: list, gdb_length: int, crashed: bool) -> list:
    """dre's rows cut to GDB's length where dre deliberately recovers more frames."""
    if scenario.name == STACKING_FAILED and crashed:
        return rows[:gdb_length]
    return rows


# (build/scenario, thread, GDB frame level, argument or local) whose value GDB read from
# a live FPU register; Memfault's register block has none, so dre says <not captured>.
NOT_CAPTURED = {
    ("an386-O2/fpu_fault", "main", 2, "value"),
    ("an386-O2/fpu_fault", "main", 2, "gain"),
    ("an386-O2/fpu_fault", "main", 2, "scaled"),
    ("an386-O2/fpu_fault", "main", 3, "baseline"),
}

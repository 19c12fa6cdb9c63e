"""Reading the GDB reference of a fixture (tests/fixtures/README.md) into comparable rows."""

from __future__ import annotations

import json
import re
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
    """The test firmware's own scheduler (the symbolicator issue's fixtures)."""
    return sorted(p.parent for p in FIXTURES.glob("an38*-O*/*/gdb.json"))


def toolchain_scenario_dirs() -> list[Path]:
    """The same firmware's C++ build (cxx-*: C++ scenarios, arm-none-eabi-g++) and clang
    build (clang-*: the C scenarios, clang and ld.lld), for names and DWARF idioms."""
    found = [
        *FIXTURES.glob("cxx-an38*-O*/*/gdb.json"),
        *FIXTURES.glob("clang-an38*-O*/*/gdb.json"),
    ]
    return sorted(p.parent for p in found)


def rtos_scenario_dirs() -> list[Path]:
    """The FreeRTOS and Zephyr look-alike builds."""
    found = [
        *FIXTURES.glob("freertos-an38*-O*/*/gdb.json"),
        *FIXTURES.glob("zephyr-an38*-O*/*/gdb.json"),
    ]
    return sorted(p.parent for p in found)


def diag_scenario_dirs() -> list[Path]:
    """The diag builds (the trace page's analyses). Their handler_fault gdb.json is GDB's
    view of the first fault, stopped in the handler, not of the dump's second fault."""
    return sorted(p.parent for p in FIXTURES.glob("diag-an38*-O*/*/gdb.json"))


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


# GDB 13's complaints about clang's DWARF 5 when it names a data address (a pointer to a
# constant in .rodata, which the unit's DW_AT_ranges cover): printed in the middle of the
# line it was writing, they are GDB's own messages, not part of any value.
GDB_SYMTAB_WARNING = re.compile(
    r"warning: \((?:Internal error|Error): pc 0x[0-9a-f]+ in (?:read in CU|address map), "
    r"but not in symtab\.\)\n"
)


def without_gdb_warnings(text: str) -> str:
    return GDB_SYMTAB_WARNING.sub("", text)


# (build/scenario, thread, GDB frame level, argument or local) whose value GDB read from
# a live FPU register; Memfault's register block has none, so dre says <not captured>.
NOT_CAPTURED = {
    ("an386-O2/fpu_fault", "main", 2, "value"),
    ("an386-O2/fpu_fault", "main", 2, "gain"),
    ("an386-O2/fpu_fault", "main", 2, "scaled"),
    ("an386-O2/fpu_fault", "main", 3, "baseline"),
}

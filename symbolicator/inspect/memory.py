"""Hex views of a coredump's memory: which bytes were captured, and from where."""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.memory import SOURCE_COREDUMP, Memory
from symbolicator.variables.reader import gdb_minimal_symbol

ROW = 16
MAX_LENGTH = 64 * 1024

# The Cortex-M System Control Space (ARMv7-M ARM B3.2.2, B3.3.2, B3.4.3, B3.5.2, C1.6;
# ARMv8-M adds the SAU), which coredumps capture for the fault registers.
SYSTEM_BLOCKS = (
    (0xE000E000, 0xE000E010, "SCnSCB"),
    (0xE000E010, 0xE000E100, "SysTick"),
    (0xE000E100, 0xE000E180, "NVIC ISER"),
    (0xE000E180, 0xE000E200, "NVIC ICER"),
    (0xE000E200, 0xE000E280, "NVIC ISPR"),
    (0xE000E280, 0xE000E300, "NVIC ICPR"),
    (0xE000E300, 0xE000E380, "NVIC IABR"),
    (0xE000E400, 0xE000ED00, "NVIC IPR"),
    (0xE000ED00, 0xE000ED90, "SCB"),
    (0xE000ED90, 0xE000EDD0, "MPU"),
    (0xE000EDD0, 0xE000EDF0, "SAU"),
    (0xE000EDF0, 0xE000EF00, "debug"),
    (0xE000EF00, 0xE000EF30, "STIR"),
    (0xE000EF30, 0xE000EF48, "FPU"),
)
SYSTEM_REGISTERS = {
    0xE000ED00: "CPUID", 0xE000ED04: "ICSR", 0xE000ED08: "VTOR", 0xE000ED0C: "AIRCR",
    0xE000ED10: "SCR", 0xE000ED14: "CCR", 0xE000ED18: "SHPR1", 0xE000ED1C: "SHPR2",
    0xE000ED20: "SHPR3", 0xE000ED24: "SHCSR", 0xE000ED28: "CFSR", 0xE000ED2C: "HFSR",
    0xE000ED30: "DFSR", 0xE000ED34: "MMFAR", 0xE000ED38: "BFAR", 0xE000ED3C: "AFSR",
    0xE000ED88: "CPACR", 0xE000EDE4: "SFSR", 0xE000EDE8: "SFAR", 0xE000EDF0: "DHCSR",
    0xE000EDFC: "DEMCR", 0xE000EF34: "FPCCR", 0xE000EF38: "FPCAR", 0xE000EF3C: "FPDSCR",
}  # fmt: skip


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    source: str  # "coredump", or "elf" for read-only sections the device never needs to send
    name: str  # the section or symbol the region starts in


@dataclass(frozen=True)
class MemoryRow:
    address: int
    bytes: list[int | None]  # None where nothing is known
    sources: list[str | None]
    symbol: str | None  # the symbol covering the row's first byte, as <name+offset>

    @property
    def ascii(self) -> str:
        return "".join(chr(b) if b is not None and 32 <= b < 127 else "." for b in self.bytes)


def regions(memory: Memory, index) -> list[Region]:
    found = []
    for span in memory.captured_spans:
        found.append(Region(span.address, span.end, SOURCE_COREDUMP, _span_name(index, span)))
    for span in index.read_only if index is not None else []:
        found.append(Region(span.address, span.end, "elf", _section_name(index, span.address)))
    return sorted(found, key=lambda r: (r.start, r.source))


def _span_name(index, span) -> str:
    """The system block or the symbol (within its section) the span starts in."""
    for start, end, block in SYSTEM_BLOCKS:
        if start <= span.address < end:
            inside = [n for a, n in SYSTEM_REGISTERS.items() if span.address <= a < span.end]
            return f"{block}: {', '.join(inside)}" if inside else block
    named = gdb_minimal_symbol(index, span.address) if index is not None else None
    if named is None:
        return ""
    return f"{named[0]}+{named[1]}" if named[1] else named[0]


def _section_name(index, address: int) -> str:
    named = index.symbol_at(address)
    return named[0] if named and named[1] == 0 else ""


def memory_rows(memory: Memory, address: int, length: int, symbolize=None) -> list[MemoryRow]:
    """Rows of 16 bytes from `address` (aligned down), marking each byte's source."""
    start = address - address % ROW
    end = min(address + max(length, 1), start + MAX_LENGTH)
    rows = []
    for row_address in range(start, end, ROW):
        values, sources = [], []
        for offset in range(ROW):
            span = memory.span_at(row_address + offset)
            values.append(span.data[row_address + offset - span.address] if span else None)
            sources.append(span.source if span else None)
        symbol = symbolize(row_address) if symbolize else None
        rows.append(MemoryRow(row_address, values, sources, symbol))
    return rows


def resolve_address(text: str, index) -> int | None:
    """A hex or decimal address, or a symbol name (optionally +offset)."""
    text = text.strip()
    name, _, offset = text.partition("+")
    try:
        return int(text, 0)
    except ValueError:
        pass
    symbol = index.symbol_named(name.strip()) if index is not None else None
    if symbol is None:
        return None
    try:
        return symbol.address + (int(offset, 0) if offset else 0)
    except ValueError:
        return None

"""What the kernel awareness modules share: struct layouts from DWARF, strings,
and the plausibility checks a saved register context must pass.

Offsets always come from the ELF's DWARF (type and member names): a TCB or a
k_thread changes with the kernel's configuration, so a table of offsets would
be right for one build only (cortex-m-unwinding.md 4.1, "Take offsets from the
ELF's DWARF").
"""

from __future__ import annotations

from symbolicator.unwind import cortex_m
from symbolicator.variables.types import Type, member

EXC_RETURN_THREAD_PSP = 0x0C  # EXC_RETURN bits 3 (Thread mode) and 2 (PSP)


class LayoutError(Exception):
    """The DWARF lacks a type or member the awareness needs."""


def offset_of(record: Type, path: str) -> int:
    """Offset of a member, `a.b.c` for nested ones (anonymous members included)."""
    offset, _ = _walk(record, path)
    return offset


def type_of(record: Type, path: str) -> Type:
    _, found = _walk(record, path)
    return found


def optional_offset(record: Type, path: str) -> int | None:
    try:
        return offset_of(record, path)
    except LayoutError:
        return None


def _walk(record: Type, path: str) -> tuple[int, Type]:
    offset, current = 0, record
    for name in path.split("."):
        found = member(current, name)
        if found is None:
            raise LayoutError(f"{_name(record)} has no member {path}")
        offset += found.offset
        current = found.type
    return offset, current


def pointee(pointer: Type) -> Type:
    stripped = pointer.strip()
    if stripped.kind != "pointer" or stripped.target is None:
        raise LayoutError(f"{_name(pointer)} is not a pointer")
    return stripped.target


def element(array: Type) -> tuple[Type, int]:
    """Element type and count of a one-dimensional array."""
    stripped = array.strip()
    if stripped.kind != "array" or stripped.target is None or not stripped.dimensions:
        raise LayoutError(f"{_name(array)} is not an array")
    return stripped.target, stripped.dimensions[0] or 0


def _name(value_type: Type) -> str:
    return value_type.name or value_type.strip().name or value_type.kind


def c_string(data: bytes) -> str:
    """A fixed-size char array as text, up to its first NUL."""
    return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def word(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def exc_return_problem(value: int) -> str | None:
    """A saved EXC_RETURN must be 0xFFFFFFxx and return to Thread mode on PSP."""
    if not cortex_m.is_exc_return(value) or value & 0xFFFFFF00 != 0xFFFFFF00:
        return f"the EXC_RETURN slot holds 0x{value:08x}"
    if value & EXC_RETURN_THREAD_PSP != EXC_RETURN_THREAD_PSP:
        return f"EXC_RETURN 0x{value:08x} does not return to a thread on PSP"
    return None


def context_problem(registers: dict[str, int], index) -> str | None:
    """Why a hardware frame read from a thread's stack is not one (cortex-m-unwinding.md
    4.1): the stacked xPSR must have the Thumb bit (24) set, the stacked pc must be code."""
    xpsr, pc = registers.get("xpsr", 0), registers.get("pc", 0)
    if not xpsr & cortex_m.XPSR_THUMB:
        return f"the stacked xPSR 0x{xpsr:08x} has no Thumb bit"
    if index.function_at(pc) is None:
        return f"the stacked pc 0x{pc:08x} is not in any function"
    return None


def symbol_size_at(index, address: int) -> int | None:
    """Size of the ELF symbol that starts exactly at `address` (a static stack buffer)."""
    found = index.symbol_at(address)
    if found is None or found[1] != 0:
        return None
    symbol = index.symbol_named(found[0])
    if symbol is None or symbol.address != address or not symbol.size:
        return None
    return symbol.size


def symbol_name_at(index, address: int) -> str | None:
    """`name` or `name+offset` for a data address, as a note for users."""
    found = index.symbol_at(address) if address else None
    if found is None:
        return None
    name, offset = found
    return f"{name}+{offset}" if offset else name

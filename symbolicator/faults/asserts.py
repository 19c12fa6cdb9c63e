"""Assert detection, and recovering the file, line and expression of a failed assert.

An assert is recognized by the Memfault trace reason 0x8001 or by a frame in a
known assert handler. Its details come, in order of preference:

1. from the handler's arguments, through an `ArgumentReader`: a callable that
   gives a frame's argument values by parameter name. The default,
   `frame_arguments`, reads the values symbolicate() decoded into
   `Frame.arguments`; a reader for another source (a stored trace, a test)
   can be passed instead;
2. from a global the firmware fills before trapping, read through the symbol
   table (SymbolIndex.symbol_named) and memory: the test firmware's
   `g_dre_assert` (tests/firmware/src/fault.h), whose text copies live in RAM.
   This also covers traces made without variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from symbolicator.errors import UnreadableMemory
from symbolicator.faults.model import Assertion
from symbolicator.faults.reasons import ASSERT
from symbolicator.trace import Frame, FrameKind, VariableInfo

ArgumentReader = Callable[[Frame], Mapping[str, object] | None]
"""Given a frame, its arguments by parameter name: ints (pointers as addresses) or str."""

C_STRING_LIMIT = 256


@dataclass(frozen=True)
class AssertHandler:
    function: str
    origin: str
    file: tuple[str, ...] = ()  # parameter names that may carry each detail
    line: tuple[str, ...] = ()
    expression: tuple[str, ...] = ()


# Parameter names as the libraries declare them: newlib/picolibc assert.c
# (__assert_func, __assert), glibc/musl (__assert_fail), the Arm C library
# (__aeabi_assert), Zephyr sys/__assert.h, FreeRTOS demo FreeRTOSConfig.h
# (names vary per port, hence several), Memfault SDK (pc and lr only).
ASSERT_HANDLERS = {
    handler.function: handler
    for handler in (
        AssertHandler("__assert_func", "newlib", ("file",), ("line",), ("failedexpr",)),
        AssertHandler("__assert", "newlib", ("file",), ("line",), ("failedexpr",)),
        AssertHandler("__assert_fail", "glibc", ("file",), ("line",), ("assertion",)),
        AssertHandler("__aeabi_assert", "Arm C library", ("file",), ("line",), ("expr",)),
        AssertHandler("assert_post_action", "Zephyr", ("file",), ("line",)),
        AssertHandler(
            "vAssertCalled", "FreeRTOS", ("pcFile", "pcFileName", "file"), ("ulLine", "line")
        ),
        AssertHandler("memfault_fault_handling_assert", "Memfault SDK"),
        AssertHandler("memfault_fault_handling_assert_extra", "Memfault SDK"),
        AssertHandler(
            "dre_assert_failed", "dre test firmware", ("file",), ("line",), ("expression",)
        ),
    )
}


def frame_arguments(frame: Frame) -> dict[str, int]:
    """The numbers among a frame's decoded arguments: pointers as addresses.

    Values are GDB-style text (`0x21cc "src/scenarios.c"`, `111`); a string is
    taken by its address and read from memory again, so GDB's escapes and its
    200-character `print elements` cut never matter.
    """
    return argument_numbers(getattr(frame, "arguments", None) or ())


def argument_numbers(arguments: Iterable[VariableInfo]) -> dict[str, int]:
    """`frame_arguments` of decoded arguments not (yet) attached to a frame."""
    values = {}
    for argument in arguments:
        first = (argument.text or "").split(" ", 1)[0]
        try:
            values[argument.name] = int(first, 0)
        except ValueError:
            continue  # <optimized out>, a struct, a float
    return values


def detect_assertion(
    trace_reason: int | None,
    frames: list[Frame],
    memory,
    index=None,
    arguments: ArgumentReader | None = None,
) -> tuple[Assertion | None, int | None]:
    """(the assertion, index of the frame that asserted) or (None, None)."""
    at = assert_frame(frames)
    if at is None and trace_reason != ASSERT:
        return None, None
    handler = ASSERT_HANDLERS[base_name(frames[at].function)] if at is not None else None
    assertion = Assertion(
        handler.function if handler else None, handler.origin if handler else None
    )
    details = None
    if handler is not None and arguments is not None:
        details = _from_arguments(handler, arguments(frames[at]) or {}, memory)
    details = details or _from_globals(memory, index)
    if details:
        assertion.file, assertion.line, assertion.expression, assertion.source = details
    caller = _caller(frames, at) if at is not None else _first_code_frame(frames)
    return assertion, caller


def base_name(function: str | None) -> str:
    """`config_validate.constprop.0` -> `config_validate`: GCC clones keep the name."""
    return (function or "").split(".", 1)[0]


def assert_frame(frames: list[Frame]) -> int | None:
    for number, frame in enumerate(frames):
        if base_name(frame.function) in ASSERT_HANDLERS:
            return number
    return None


def _caller(frames: list[Frame], handler_at: int) -> int | None:
    """The first frame after the handler that is neither an assert handler nor a trampoline."""
    for number in range(handler_at + 1, len(frames)):
        frame = frames[number]
        if frame.kind == FrameKind.EXCEPTION:
            return None
        if frame.function and base_name(frame.function) not in ASSERT_HANDLERS:
            return number
    return None


def _first_code_frame(frames: list[Frame]) -> int | None:
    return next((n for n, f in enumerate(frames) if f.function), None)


def _from_arguments(handler: AssertHandler, values: Mapping[str, object], memory):
    file = _text(_first(values, handler.file), memory)
    line = _first(values, handler.line)
    expression = _text(_first(values, handler.expression), memory)
    if file is None and expression is None and not isinstance(line, int):
        return None
    return file, line if isinstance(line, int) else None, expression, "arguments"


def _first(values: Mapping[str, object], names: tuple[str, ...]):
    return next((values[name] for name in names if values.get(name) is not None), None)


def _text(value, memory) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and value:
        return read_c_string(memory, value)
    return None


# struct dre_assert_info (tests/firmware/src/fault.h) under the Arm EABI: two
# pointers, line, trace_reason, then char file_text[32], char expression_text[64].
_DRE_ASSERT = {"file": 0, "expression": 4, "line": 8, "trace_reason": 12}
_DRE_FILE_TEXT, _DRE_EXPRESSION_TEXT = (16, 32), (48, 64)


def _read_dre_assert(memory, address: int):
    """g_dre_assert, trusted only when dre_assert_failed filled it (trace_reason 0x8001)."""
    try:
        if memory.read_u32(address + _DRE_ASSERT["trace_reason"]) != ASSERT:
            return None
        line = memory.read_u32(address + _DRE_ASSERT["line"])
        file_pointer = memory.read_u32(address + _DRE_ASSERT["file"])
        expression_pointer = memory.read_u32(address + _DRE_ASSERT["expression"])
    except UnreadableMemory:
        return None
    # The pointers reach the full text in flash (the ELF); the RAM copies are cut short.
    file = _text(file_pointer, memory) or _copy(memory, address, _DRE_FILE_TEXT)
    expression = _text(expression_pointer, memory) or _copy(memory, address, _DRE_EXPRESSION_TEXT)
    return file, line or None, expression, "g_dre_assert"


def _copy(memory, address: int, field: tuple[int, int]) -> str | None:
    offset, size = field
    return read_c_string(memory, address + offset, size)


RECORDED_ASSERTS = {"g_dre_assert": _read_dre_assert}


def _from_globals(memory, index):
    if index is None:
        return None
    for name, reader in RECORDED_ASSERTS.items():
        symbol = index.symbol_named(name)
        found = reader(memory, symbol.address) if symbol is not None else None
        if found:
            return found
    return None


def read_c_string(memory, address: int, limit: int = C_STRING_LIMIT) -> str | None:
    """A NUL-terminated string; None if unreadable, empty or not terminated within `limit`."""
    out = bytearray()
    for cursor in range(address, address + limit):
        try:
            byte = memory.read(cursor, 1)[0]
        except UnreadableMemory:
            return None
        if byte == 0:
            return out.decode("utf-8", errors="replace") or None
        out.append(byte)
    return None

"""Failed asserts: recognized by trace reason or handler frame, details recovered."""

import struct

import pytest

from symbolicator.faults.asserts import (
    ASSERT_HANDLERS,
    detect_assertion,
    frame_arguments,
    read_c_string,
)
from symbolicator.index import Symbol
from symbolicator.memory import SOURCE_COREDUMP, SOURCE_ELF, Memory, Span
from symbolicator.trace import Frame, FrameKind, VariableInfo

G_DRE_ASSERT = 0x200000BC
FILE_TEXT = 0x21CC
EXPRESSION_TEXT = 0x21DC


class Index:
    """Just the symbol table lookup assert detection uses."""

    def __init__(self, **symbols):
        self._symbols = symbols

    def symbol_named(self, name):
        address = self._symbols.get(name)
        return Symbol(name, address, 112) if address is not None else None


def dre_assert_info(trace_reason=0x8001, file=FILE_TEXT, expression=EXPRESSION_TEXT):
    # struct dre_assert_info (tests/firmware/src/fault.h), Arm EABI layout.
    file_text = b"src/scenarios.c".ljust(32, b"\0")
    expression_text = b"config->baud_rate".ljust(64, b"\0")  # cut short on purpose
    return struct.pack("<4I", file, expression, 111, trace_reason) + file_text + expression_text


def memory(info=None):
    rodata = b"src/scenarios.c\0".ljust(16, b"\0") + b"config->baud_rate <= 115200u\0"
    captured = [Span(G_DRE_ASSERT, info or dre_assert_info(), SOURCE_COREDUMP)]
    return Memory(captured, [Span(FILE_TEXT, rodata, SOURCE_ELF)])


def frames(*functions):
    return [Frame(pc=0x1000 + 0x10 * n, function=f) for n, f in enumerate(functions)]


@pytest.mark.parametrize("handler", sorted(ASSERT_HANDLERS))
def test_it_recognizes_each_known_assert_handler(handler):
    assertion, at = detect_assertion(None, frames(handler, "config_validate"), memory())

    assert assertion.handler == handler
    assert at == 1


def test_it_recognizes_a_gcc_clone_of_a_handler():
    assertion, _ = detect_assertion(None, frames("__assert_func.part.0", "main"), memory())

    assert assertion.handler == "__assert_func"


def test_the_assert_is_placed_in_the_first_frame_past_the_handler():
    stack = frames("_exit", "abort", "__assert_func", "__assert_func", "parse", "main")

    assertion, at = detect_assertion(None, stack, memory())

    assert (assertion.origin, at) == ("newlib", 4)


def test_no_handler_and_no_assert_reason_is_no_assert():
    assert detect_assertion(0x9200, frames("calc_ratio", "main"), memory()) == (None, None)


def test_the_assert_trace_reason_alone_is_enough():
    assertion, at = detect_assertion(0x8001, frames("my_panic", "main"), memory())

    assert assertion.handler is None
    assert at == 0


def test_argument_values_fill_the_details_when_a_reader_is_given():
    def arguments(frame):
        assert frame.function == "__assert_func"
        return {"file": "main.c", "line": 42, "func": "main", "failedexpr": FILE_TEXT + 16}

    assertion, _ = detect_assertion(
        None, frames("__assert_func", "main"), memory(), arguments=arguments
    )

    assert (assertion.file, assertion.line, assertion.expression, assertion.source) == (
        "main.c",
        42,
        "config->baud_rate <= 115200u",
        "arguments",
    )


def test_frame_arguments_takes_numbers_and_string_addresses_from_decoded_arguments():
    frame = Frame(0x1000, function="__assert_func")
    frame.arguments = [
        VariableInfo("file", "const char *", '0x21cc "src/scenarios.c"'),
        VariableInfo("line", "int", "111"),
        VariableInfo("func", "const char *", "<optimized out>"),
        VariableInfo("failedexpr", "const char *", '0x21dc "n > 0"...'),
    ]

    assert frame_arguments(frame) == {"file": 0x21CC, "line": 111, "failedexpr": 0x21DC}


def test_decoded_arguments_of_the_handler_give_the_details():
    frame = Frame(0x1000, function="dre_assert_failed")
    frame.arguments = [
        VariableInfo("file", "const char *", f'0x{FILE_TEXT:x} "src/scenarios.c"'),
        VariableInfo("line", "uint32_t", "111"),
        VariableInfo("expression", "const char *", f'0x{EXPRESSION_TEXT:x} "..."'),
    ]

    assertion, _ = detect_assertion(
        None, [frame, *frames("config_validate")], memory(), arguments=frame_arguments
    )

    assert (assertion.file, assertion.line, assertion.expression, assertion.source) == (
        "src/scenarios.c",
        111,
        "config->baud_rate <= 115200u",
        "arguments",
    )


def test_a_reader_with_nothing_for_the_frame_falls_back_to_the_globals():
    assertion, _ = detect_assertion(
        None,
        frames("dre_assert_failed", "config_validate"),
        memory(),
        Index(g_dre_assert=G_DRE_ASSERT),
        arguments=lambda frame: None,
    )

    assert assertion.source == "g_dre_assert"


def test_it_reads_g_dre_assert_through_the_symbol_table():
    assertion, _ = detect_assertion(
        0x8001,
        frames("dre_assert_failed", "config_validate"),
        memory(),
        Index(g_dre_assert=G_DRE_ASSERT),
    )

    assert (assertion.file, assertion.line, assertion.expression) == (
        "src/scenarios.c",
        111,
        "config->baud_rate <= 115200u",
    )


def test_without_the_pointed_to_text_it_uses_the_copies_in_ram():
    info = dre_assert_info(file=0x08000000, expression=0)

    assertion, _ = detect_assertion(
        0x8001, frames("dre_assert_failed"), memory(info), Index(g_dre_assert=G_DRE_ASSERT)
    )

    assert (assertion.file, assertion.expression) == ("src/scenarios.c", "config->baud_rate")


def test_g_dre_assert_is_ignored_unless_dre_assert_failed_filled_it():
    info = dre_assert_info(trace_reason=0)

    assertion, _ = detect_assertion(
        0x8001, frames("dre_assert_failed"), memory(info), Index(g_dre_assert=G_DRE_ASSERT)
    )

    assert (assertion.file, assertion.line, assertion.source) == (None, None, "")


def test_the_caller_search_stops_at_an_exception_frame():
    stack = [
        Frame(pc=0x1000, function="__assert_func"),
        Frame(pc=0xFFFFFFFD, kind=FrameKind.EXCEPTION),
        Frame(pc=0x2000, function="main"),
    ]

    assert detect_assertion(None, stack, memory())[1] is None


def test_read_c_string_needs_a_terminator_within_the_limit():
    text = Memory([Span(0x100, b"abc\0def", SOURCE_COREDUMP)])

    assert read_c_string(text, 0x100) == "abc"
    assert read_c_string(text, 0x104) is None  # runs off the captured bytes
    assert read_c_string(text, 0x100, limit=2) is None
    assert read_c_string(text, 0x103) is None  # empty

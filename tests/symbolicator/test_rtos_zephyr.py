"""Zephyr awareness, byte by byte: state bits, the thread list, the context z_arm_pendsv
saves (cortex-m-unwinding.md 4.2), layouts from DWARF, and the 'T' block (5.1)."""

from __future__ import annotations

import pytest

import symbolicator
from symbolicator.memory import Memory, Span
from symbolicator.rtos import discover_threads, zephyr
from symbolicator.rtos.zephyr import ThreadLayout, thread_state, walk_threads
from symbolicator.symbolicate import coredump_memory
from symbolicator.variables import VariableReader
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import index_for
from tests.symbolicator.test_coredump_zephyr import (
    BASIC,
    CALLEE_SAVED,
    arch_block,
    memory_block,
    threads_block,
    zephyr_coredump,
)
from tests.symbolicator.test_rtos_freertos import FRAME, R4_TO_R11, THUMB, FakeIndex, Ram

RAM = 0x20000000
THREAD = RAM + 0x100
PSP = RAM + 0x600
# A k_thread of this shape: thread_state +13, prio +14, callee_saved v1-v8 +40..+68, psp +72,
# next_thread +104, arch.preempt_float +168 (s16-s31), arch.mode_exc_return +233.
LAYOUT = ThreadLayout(
    size=236,
    state=13,
    prio=14,
    pended_on=8,
    registers=tuple(range(40, 72, 4)),
    psp=72,
    next_thread=104,
    preempt_float=168,
    exc_return=233,
)
NO_FPU = ThreadLayout(**{**LAYOUT.__dict__, "preempt_float": None, "exc_return": None})


@pytest.mark.parametrize(
    ("bits", "is_current", "state"),
    [
        (0x80, True, "running"),
        (0x80, False, "ready"),
        (0x00, False, "ready"),
        (0x02, False, "pending"),
        (0x04, False, "sleeping"),
        (0x10, False, "suspended"),
        (0x12, False, "pending+suspended"),
        (0x08, False, "dead"),
        (0x01, False, "dummy"),
    ],
)
def test_a_state_is_named_by_its_bits(bits, is_current, state):
    assert thread_state(bits, is_current) == state


def test_state_names_list_every_bit_queued_included():
    assert zephyr.state_names(0xFF) == [
        "dummy",
        "pending",
        "sleeping",
        "dead",
        "suspended",
        "aborting",
        "suspending",
        "queued",
    ]


def chain(ram, *threads, last_next=0):
    for thread, following in zip(threads, [*threads[1:], last_next], strict=True):
        ram.words(thread + LAYOUT.next_thread, following)


def test_it_walks_the_thread_list_to_its_null_end():
    ram = Ram()
    chain(ram, RAM + 0x100, RAM + 0x200, RAM + 0x300)

    assert walk_threads(ram.memory(), RAM + 0x100, LAYOUT) == (
        [RAM + 0x100, RAM + 0x200, RAM + 0x300],
        None,
    )


def test_it_stops_a_thread_list_that_loops():
    ram = Ram()
    chain(ram, RAM + 0x100, RAM + 0x200, last_next=RAM + 0x100)

    threads, problem = walk_threads(ram.memory(), RAM + 0x100, LAYOUT)

    assert threads == [RAM + 0x100, RAM + 0x200]
    assert problem == "_kernel.threads loops at 0x20000100"


def test_it_stops_a_thread_list_at_a_thread_that_was_not_captured():
    ram = Ram(size=0x200)
    chain(ram, RAM + 0x100, last_next=RAM + 0x900)

    threads, problem = walk_threads(ram.memory(), RAM + 0x100, LAYOUT)

    assert threads == [RAM + 0x100, RAM + 0x900]
    assert problem.startswith("the thread at 0x20000900 was not captured")


def test_it_never_walks_more_than_its_limit():
    ram = Ram()
    chain(ram, *(RAM + 0x80 * n for n in range(1, 8)))

    threads, problem = walk_threads(ram.memory(), RAM + 0x80, LAYOUT, limit=4)

    assert len(threads) == 4
    assert "more than 4" in problem


def switched_out(ram, exc_return_byte=None, frame=FRAME, floats=()):
    ram.words(THREAD + 40, *R4_TO_R11, PSP)
    if exc_return_byte is not None:
        ram.data[THREAD + 233 - RAM] = exc_return_byte
    if floats:
        ram.words(THREAD + 168, *floats)
    ram.words(PSP, *frame)
    return ram.memory().read(THREAD, LAYOUT.size)


def test_without_store_exc_return_the_frame_at_psp_is_basic():
    ram = Ram()
    data = switched_out(ram)

    registers, note, problem = zephyr.saved_registers(ram.memory(), FakeIndex(), data, NO_FPU)

    assert [registers[f"r{n}"] for n in range(4, 12)] == R4_TO_R11
    assert (registers["r0"], registers["pc"], registers["xpsr"]) == (0x10, 0x0900, THUMB)
    assert registers["sp"] == registers["psp"] == PSP + 0x20
    assert (note, problem) == (None, None)


def test_an_fpu_thread_has_s16_to_s31_in_preempt_float_and_an_extended_frame():
    ram = Ram()
    high = [0x3F800000 + n for n in range(16)]
    low = [0x40000000 + n for n in range(16)]
    data = switched_out(ram, 0xED, frame=[*FRAME, *low, 0x03000000, 0], floats=high)

    registers, note, problem = zephyr.saved_registers(ram.memory(), FakeIndex(), data, LAYOUT)

    assert [registers[f"s{n}"] for n in range(16, 32)] == high
    assert [registers[f"s{n}"] for n in range(16)] == low
    assert registers["fpscr"] == 0x03000000
    assert registers["sp"] == PSP + 0x68
    assert (note, problem) == (None, None)


def test_mode_exc_return_0xfd_means_a_basic_frame_even_with_fpu_sharing():
    ram = Ram()
    data = switched_out(ram, 0xFD, floats=[0x3F800000] * 16)

    registers, _, _ = zephyr.saved_registers(ram.memory(), FakeIndex(), data, LAYOUT)

    assert registers["sp"] == PSP + 0x20
    assert "s16" not in registers


def test_a_stacked_xpsr_with_bit_9_adds_the_alignment_word():
    ram = Ram()
    data = switched_out(ram, frame=[*FRAME[:7], THUMB | 0x200])

    registers, _, _ = zephyr.saved_registers(ram.memory(), FakeIndex(), data, NO_FPU)

    assert registers["sp"] == PSP + 0x24


def test_a_mode_exc_return_that_is_no_exc_return_falls_back_with_a_note():
    ram = Ram()
    data = switched_out(ram, 0x00)

    registers, note, problem = zephyr.saved_registers(ram.memory(), FakeIndex(), data, LAYOUT)

    assert registers["sp"] == PSP + 0x20
    assert note == (
        "read as EXC_RETURN 0xfffffffd: 0xffffff00 failed its checks "
        "(EXC_RETURN 0xffffff00 does not return to a thread on PSP)"
    )
    assert problem is None


def test_a_frame_that_is_no_frame_is_shown_as_read_and_says_so():
    ram = Ram()
    data = switched_out(ram, frame=[0xDEADBEEF] * 8)

    registers, note, problem = zephyr.saved_registers(ram.memory(), FakeIndex(), data, NO_FPU)

    assert registers is not None
    assert note is None
    assert problem.startswith("the saved context at PSP 0x20000600 fails its checks")


def test_a_thread_whose_stack_was_not_captured_has_no_registers():
    ram = Ram(size=0x600)  # PSP is just past the captured RAM
    ram.words(THREAD + 40, *R4_TO_R11, PSP)
    data = ram.memory().read(THREAD, LAYOUT.size)

    registers, _, problem = zephyr.saved_registers(ram.memory(), FakeIndex(), data, NO_FPU)

    assert registers is None
    assert problem.startswith("its stack at PSP 0x20000600 was not captured")


# Layouts from DWARF ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "current", "threads", "exc_return", "preempt_float"),
    [("zephyr-an385-O2", 8, 36, None, None), ("zephyr-an386-O2", 8, 40, 233, 168)],
)
def test_the_kernel_and_thread_layouts_come_from_dwarf(
    build, current, threads, exc_return, preempt_float
):
    """The arch members exist only with CONFIG_ARM_STORE_EXC_RETURN and CONFIG_FPU_SHARING,
    as on the an386 build; _cpu grows by fp_ctx there, moving `threads`."""
    index = index_for(build)
    kernel = VariableReader(index, Memory([])).global_named("_kernel")

    kernel_layout, thread = zephyr.layouts(kernel.value.type)

    assert (kernel_layout.current, kernel_layout.threads) == (current, threads)
    assert (thread.state, thread.prio, thread.pended_on) == (13, 14, 8)
    assert thread.registers == tuple(range(40, 72, 4))
    assert (thread.psp, thread.next_thread, thread.name, thread.name_size) == (72, 104, 108, 32)
    assert (thread.stack_start, thread.stack_size) == (144, 148)
    assert (thread.exc_return, thread.preempt_float) == (exc_return, preempt_float)


# The 'T' block ----------------------------------------------------------------------------

SCENARIO = FIXTURES / "zephyr-an386-O2" / "task_fault"


def zephyr_dump_without_kernel_ram(*, with_threads_block: bool) -> bytes:
    """The fixture's crash as a Zephyr coredump whose 'M' blocks leave `_kernel` out, with
    or without the 'T' block that copies it."""
    coredump = symbolicator.parse_coredump((SCENARIO / "coredump.bin").read_bytes())
    kernel = index_for(SCENARIO.parent.name).symbol_named("_kernel")
    start, end = kernel.address, kernel.address + kernel.size
    registers = coredump.registers
    blocks = [arch_block(2, [registers[name] for name in BASIC + CALLEE_SAVED])]
    for region in coredump.regions:
        if region.address <= start < region.end:
            blocks.append(memory_block(region.address, region.data[: start - region.address]))
            blocks.append(memory_block(end, region.data[end - region.address :]))
            kernel_bytes = region.data[start - region.address : end - region.address]
        else:
            blocks.append(memory_block(region.address, region.data))
    if with_threads_block:
        blocks.append(threads_block(kernel_bytes))
    return zephyr_coredump(*blocks, reason=16)


def discover(data: bytes):
    coredump = symbolicator.parse_coredump(data)
    index = index_for(SCENARIO.parent.name)
    return discover_threads(coredump_memory(coredump, index), index, coredump), coredump


def test_a_threads_block_stands_in_for_kernel_ram_that_was_not_captured():
    kernel, coredump = discover(zephyr_dump_without_kernel_ram(with_threads_block=True))
    trace = symbolicator.symbolicate(coredump, index_for(SCENARIO.parent.name))

    assert "zephyr_kernel" in coredump.extra
    assert sorted(t.name for t in kernel.threads) == [
        "comms", "idle", "logger", "main", "rx", "sensor", "worker",
    ]  # fmt: skip
    assert next(t for t in kernel.threads if t.is_current).name == "main"
    assert [t.name for t in trace.threads if t.crashed] == ["main"]


def test_without_kernel_ram_or_a_threads_block_it_says_what_is_missing():
    kernel, _ = discover(zephyr_dump_without_kernel_ram(with_threads_block=False))

    assert kernel.threads == []
    assert kernel.problems[0].startswith("_kernel was not captured")


def test_a_kernel_copy_never_hides_captured_kernel_ram():
    memory = Memory([Span(RAM, b"\x11" * 64, "coredump")])

    class Dump:
        extra = {"zephyr_kernel": {"version": 1, "data": b"\x22" * 16}}

    class Index:
        read_only = []

    assert zephyr.with_kernel_copy(memory, Index(), RAM, Dump()) is memory

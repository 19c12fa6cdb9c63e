"""FreeRTOS awareness, byte by byte: list walks, eTaskGetState's rules, the ARM_CM3 and
ARM_CM4F save areas (cortex-m-unwinding.md 4.1), and layouts read from DWARF."""

from __future__ import annotations

import struct

import pytest

from symbolicator.memory import Memory, Span
from symbolicator.rtos import freertos
from symbolicator.rtos.freertos import KernelLists, ListLayout, TaskFacts, task_state, walk_list
from symbolicator.rtos.kernel_objects import element, pointee
from symbolicator.variables import VariableReader
from tests.symbolicator.gdb_reference import index_for

RAM = 0x20000000
LIST = RAM + 0x100
# List_t / ListItem_t on a 32-bit port with mini list items (include/list.h): count +0,
# pxIndex +4, xListEnd +8 (xItemValue, pxNext +12, pxPrevious); an item is xItemValue,
# pxNext +4, pxPrevious +8, pvOwner +12, pxContainer +16.
LAYOUT = ListLayout(count=0, end=8, end_next=4, next=4, owner=12, container=16)
THUMB = 0x01000000
CODE_START, CODE_END = 0x400, 0x2000


class FakeIndex:
    """Code at 0x400-0x2000; nothing else is asked of it here."""

    def function_at(self, address):
        return object() if CODE_START <= address < CODE_END else None

    def symbol_named(self, name):
        return None


class Ram:
    def __init__(self, size=0x800):
        self.data = bytearray(size)

    def words(self, address, *values):
        struct.pack_into(f"<{len(values)}I", self.data, address - RAM, *values)

    def memory(self):
        return Memory([Span(RAM, bytes(self.data), "coredump")])


def a_list(ram, items, count=None, list_address=LIST):
    """A List_t whose end marker links the items in order; each item names the list."""
    end = list_address + 8
    chain = [end, *items, end]
    ram.words(list_address, len(items) if count is None else count, end)
    ram.words(end, 0xFFFFFFFF, chain[1], chain[-2])
    for n, item in enumerate(items, start=1):
        ram.words(item, 0, chain[n + 1], chain[n - 1], item - 4, list_address)


# Lists ----------------------------------------------------------------------------------


def test_it_walks_a_list_from_its_end_marker_back_to_it():
    ram = Ram()
    a_list(ram, [RAM + 0x204, RAM + 0x304])

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert walk.items == [(RAM + 0x204, RAM + 0x200), (RAM + 0x304, RAM + 0x300)]
    assert walk.problem is None


def test_an_empty_list_has_no_items():
    ram = Ram()
    a_list(ram, [])

    assert walk_list(ram.memory(), LIST, LAYOUT).items == []


def test_it_stops_a_list_that_loops_back_to_an_item_and_says_where():
    ram = Ram()
    a_list(ram, [RAM + 0x204, RAM + 0x304], count=5)
    ram.words(RAM + 0x304 + 4, RAM + 0x204)  # the second item's pxNext: back to the first

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert [owner for _, owner in walk.items] == [RAM + 0x200, RAM + 0x300]
    assert walk.problem == "the list at 0x20000100 loops at 0x20000204"


def test_it_stops_after_uxnumberofitems_items_when_the_end_never_comes_back():
    ram = Ram()
    a_list(ram, [RAM + 0x204, RAM + 0x304, RAM + 0x404], count=2)

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert len(walk.items) == 2
    assert walk.problem.startswith("the list at 0x20000100 holds more than its uxNumberOfItems (2)")


def test_it_never_walks_more_than_its_limit_whatever_the_count_says():
    ram = Ram()
    a_list(ram, [RAM + 0x204 + 0x40 * n for n in range(6)], count=0xFFFFFFFF)

    walk = walk_list(ram.memory(), LIST, LAYOUT, limit=3)

    assert len(walk.items) == 3
    assert "holds more than" in walk.problem


def test_it_reports_a_list_that_holds_fewer_items_than_its_count():
    ram = Ram()
    a_list(ram, [RAM + 0x204], count=3)

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert len(walk.items) == 1
    assert walk.problem == "the list at 0x20000100 holds 1 items, its uxNumberOfItems says 3"


def test_it_stops_at_an_item_that_says_it_is_in_another_list():
    ram = Ram()
    a_list(ram, [RAM + 0x204, RAM + 0x304])
    ram.words(RAM + 0x304 + 16, RAM + 0x500)

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert len(walk.items) == 1
    assert "says it is in the list at 0x20000500" in walk.problem


def test_it_stops_where_an_item_was_not_captured():
    ram = Ram(size=0x300)
    a_list(ram, [RAM + 0x204])
    ram.words(RAM + 0x204 + 4, RAM + 0x904)  # pxNext outside the captured RAM
    ram.words(LIST, 2)

    walk = walk_list(ram.memory(), LIST, LAYOUT)

    assert len(walk.items) == 1
    assert "was not captured" in walk.problem


# eTaskGetState --------------------------------------------------------------------------

READY_0, PENDING, DELAYED_1, DELAYED_2, SUSPENDED, TERMINATING, EVENT = (
    RAM + 0x100 + 0x14 * n for n in range(7)
)
LISTS = KernelLists(
    current=0x2000_1000,
    ready=[READY_0],
    pending=PENDING,
    delayed=[DELAYED_1, DELAYED_2],
    suspended=SUSPENDED,
    terminating=TERMINATING,
)


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        (TaskFacts(0x2000_1000, READY_0, 0), "running"),
        (TaskFacts(0x2000_2000, READY_0, 0), "ready"),
        (TaskFacts(0x2000_2000, DELAYED_1, PENDING), "ready"),  # readied, scheduler suspended
        (TaskFacts(0x2000_2000, DELAYED_2, 0), "blocked"),
        (TaskFacts(0x2000_2000, DELAYED_1, EVENT), "blocked"),  # on an event, with a timeout
        (TaskFacts(0x2000_2000, SUSPENDED, 0), "suspended"),
        (TaskFacts(0x2000_2000, SUSPENDED, EVENT), "blocked"),  # an event, no timeout
        (TaskFacts(0x2000_2000, SUSPENDED, 0, waiting_notification=True), "blocked"),
        (TaskFacts(0x2000_2000, TERMINATING, 0), "deleted"),
        (TaskFacts(0x2000_2000, 0, 0), "deleted"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_task_state_follows_etaskgetstate(facts, state):
    assert task_state(facts, LISTS) == state


def test_without_vtasksuspend_a_task_waiting_forever_is_not_called_suspended():
    lists = KernelLists(current=0, ready=[READY_0], delayed=[DELAYED_1], suspended=None)

    assert task_state(TaskFacts(0x2000_2000, SUSPENDED, 0), lists) == "ready"


# Save areas at pxTopOfStack --------------------------------------------------------------

SAVE = RAM + 0x400
R4_TO_R11 = [0x44440000 + n for n in range(8)]
FRAME = [0x10, 0x11, 0x12, 0x13, 0x1C, 0x0801, 0x0900, THUMB]  # r0-r3 r12 lr pc xpsr


def read(ram, fpu_port):
    return freertos.saved_registers(ram.memory(), FakeIndex(), SAVE, fpu_port)


def test_the_arm_cm3_save_area_is_r4_to_r11_then_the_basic_frame():
    ram = Ram()
    ram.words(SAVE, *R4_TO_R11, *FRAME)

    registers, note, problem = read(ram, fpu_port=False)

    assert [registers[f"r{n}"] for n in range(4, 12)] == R4_TO_R11
    assert (registers["r0"], registers["lr"], registers["pc"]) == (0x10, 0x0801, 0x0900)
    assert registers["sp"] == registers["psp"] == SAVE + 0x40
    assert (note, problem) == (None, None)


def test_the_arm_cm4f_save_area_has_exc_return_after_r11():
    ram = Ram()
    ram.words(SAVE, *R4_TO_R11, 0xFFFFFFFD, *FRAME)

    registers, note, problem = read(ram, fpu_port=True)

    assert registers["pc"] == 0x0900
    assert registers["sp"] == SAVE + 0x44
    assert "s16" not in registers
    assert (note, problem) == (None, None)


def test_an_extended_cm4f_save_area_has_s16_to_s31_then_an_extended_frame():
    ram = Ram()
    high = [0x3F800000 + n for n in range(16)]  # s16-s31
    low = [0x40000000 + n for n in range(16)]  # s0-s15
    ram.words(SAVE, *R4_TO_R11, 0xFFFFFFED, *high, *FRAME, *low, 0x03000000, 0)

    registers, note, problem = read(ram, fpu_port=True)

    assert [registers[f"s{n}"] for n in range(16, 32)] == high
    assert [registers[f"s{n}"] for n in range(16)] == low
    assert registers["fpscr"] == 0x03000000
    assert registers["pc"] == 0x0900
    assert registers["sp"] == SAVE + 0xCC
    assert (note, problem) == (None, None)


@pytest.mark.parametrize(("fpu_port", "size"), [(False, 0x40), (True, 0x44)])
def test_a_stacked_xpsr_with_bit_9_adds_the_alignment_word_to_sp(fpu_port, size):
    ram = Ram()
    exc_return = [0xFFFFFFFD] if fpu_port else []
    ram.words(SAVE, *R4_TO_R11, *exc_return, *FRAME[:7], THUMB | 0x200)

    registers, _, _ = read(ram, fpu_port)

    assert registers["sp"] == SAVE + size + 4


def test_a_cm3_save_area_found_where_cm4f_was_expected_is_read_as_cm3_with_a_note():
    ram = Ram()
    ram.words(SAVE, *R4_TO_R11, *FRAME)

    registers, note, problem = read(ram, fpu_port=True)

    assert registers["pc"] == 0x0900
    assert registers["sp"] == SAVE + 0x40
    assert note == (
        "registers read with the ARM_CM3 layout: the ARM_CM4F layout failed its checks "
        "(the EXC_RETURN slot holds 0x00000010)"
    )
    assert problem is None


def test_a_cm4f_save_area_found_where_cm3_was_expected_is_read_as_cm4f_with_a_note():
    ram = Ram()
    ram.words(SAVE, *R4_TO_R11, 0xFFFFFFFD, *FRAME)

    registers, note, _ = read(ram, fpu_port=False)

    assert registers["pc"] == 0x0900
    assert note.startswith("registers read with the ARM_CM4F layout: the ARM_CM3 layout failed")
    assert "no Thumb bit" in note or "not in any function" in note


def test_a_save_area_that_fits_neither_port_is_shown_as_read_and_says_so():
    ram = Ram()
    ram.words(SAVE, *([0xDEADBEEF] * 0x40))

    registers, note, problem = read(ram, fpu_port=False)

    assert registers is not None
    assert note is None
    assert problem.startswith("the saved context at 0x20000400 fails the checks of both ports")


def test_an_uncaptured_save_area_leaves_the_task_without_registers():
    ram = Ram(size=0x410)

    registers, _, problem = read(ram, fpu_port=False)

    assert registers is None
    assert problem.startswith("its saved context at 0x20000400 was not captured")


# Layouts from DWARF ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "end_of_stack", "size"),
    [("freertos-an385-O2", None, 92), ("freertos-an386-O2", 68, 96)],
)
def test_the_tcb_layout_comes_from_dwarf(build, end_of_stack, size):
    """The offsets the reference measured for this configuration (4.1); pxEndOfStack
    exists only with configRECORD_STACK_HIGH_ADDRESS, as on the an386 build."""
    index = index_for(build)
    current = VariableReader(index, Memory([])).global_named("pxCurrentTCB")

    tcb = freertos.tcb_layout(pointee(current.value.type))

    assert (tcb.top_of_stack, tcb.state_item, tcb.event_item) == (0, 4, 24)
    assert (tcb.priority, tcb.stack, tcb.name, tcb.name_size) == (44, 48, 52, 16)
    assert tcb.end_of_stack == end_of_stack
    assert (tcb.item_value, tcb.item_container, tcb.notify_entries) == (0, 16, 1)
    assert tcb.size == size


def test_the_list_layout_comes_from_dwarf():
    index = index_for("freertos-an385-O2")
    ready = VariableReader(index, Memory([])).global_named("pxReadyTasksLists", "tasks.c")
    list_type, count = element(ready.value.type)

    assert freertos.list_layout(list_type) == LAYOUT
    assert count == 5

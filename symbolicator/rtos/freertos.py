"""FreeRTOS awareness: every task from the kernel's own lists, read through DWARF.

FreeRTOS keeps no table of tasks. Each task's TCB (struct tskTaskControlBlock,
TCB_t) is linked by its xStateListItem into one of the ready, delayed,
suspended or termination lists, and by its xEventListItem into an event's list
or into xPendingReadyList (cortex-m-unwinding.md 4.1). Offsets come from the
DWARF types of pxCurrentTCB and of tasks.c's list variables.

1. Read pxCurrentTCB and tasks.c's lists; derive the TCB and list layouts.
2. Walk every list, bounded by uxNumberOfItems and a visited set, and collect
   the TCBs in list order: ready lists from the highest priority down, pending
   ready, delayed, suspended, waiting termination.
3. Per TCB: name, priority, state by eTaskGetState's rules, stack bounds and
   high-water mark (0xA5 fill), and for every task but the running one the
   registers the port saved at pxTopOfStack, checked for plausibility.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symbolicator.errors import UnreadableMemory
from symbolicator.rtos import Kernel, ThreadInfo
from symbolicator.rtos.kernel_objects import (
    LayoutError,
    c_string,
    context_problem,
    element,
    exc_return_problem,
    offset_of,
    optional_offset,
    pointee,
    symbol_size_at,
    type_of,
    word,
)
from symbolicator.rtos.saved_context import read_saved_context, unused_stack
from symbolicator.variables import VariableReader
from symbolicator.variables.types import Type

NAME = "FreeRTOS"
CURRENT = "pxCurrentTCB"
TASKS_UNIT = "tasks.c"
FILL_BYTE = 0xA5  # tskSTACK_FILL_BYTE
MAX_TASKS = 256
TASK_WAITING_NOTIFICATION = 1  # taskWAITING_NOTIFICATION
STACK_WORD = 4
# Present only in the FPU ports (ARM_CM4F, ARM_CM7): the port that saves EXC_RETURN.
FPU_PORT_SYMBOL = "vPortEnableVFP"
CPACR = 0xE000ED88
CPACR_CP10_CP11 = 0xF << 20
CM3, CM4F = "ARM_CM3", "ARM_CM4F"
DELAYED = ("xDelayedTaskList1", "xDelayedTaskList2")

RUNNING, READY, BLOCKED, SUSPENDED, DELETED = "running", "ready", "blocked", "suspended", "deleted"


@dataclass(frozen=True)
class ListLayout:
    """List_t and ListItem_t (include/list.h)."""

    count: int  # List_t.uxNumberOfItems
    end: int  # List_t.xListEnd, a MiniListItem_t
    end_next: int  # MiniListItem_t.pxNext
    next: int  # ListItem_t.pxNext
    owner: int  # ListItem_t.pvOwner
    container: int  # ListItem_t.pxContainer (pvContainer before V10)


@dataclass(frozen=True)
class TcbLayout:
    size: int
    top_of_stack: int
    state_item: int
    event_item: int
    priority: int
    stack: int
    name: int
    name_size: int
    item_value: int  # xItemValue in a ListItem_t (a delayed task's wake-up tick)
    item_container: int  # pxContainer in a ListItem_t
    end_of_stack: int | None = None  # configRECORD_STACK_HIGH_ADDRESS or stacks growing up
    notify_state: int | None = None  # configUSE_TASK_NOTIFICATIONS
    notify_entries: int = 0


@dataclass
class KernelLists:
    """Addresses of tasks.c's lists, and the running task."""

    current: int
    ready: list[int]
    pending: int | None = None
    delayed: list[int] = field(default_factory=list)
    suspended: int | None = None
    terminating: int | None = None
    task_count: int | None = None

    def walk_order(self) -> list[int]:
        lists = [*reversed(self.ready), self.pending, *self.delayed]
        return [a for a in (*lists, self.suspended, self.terminating) if a is not None]


@dataclass
class ListWalk:
    items: list[tuple[int, int]]  # (list item address, owner)
    problem: str | None = None


def discover(memory, index) -> Kernel | None:
    if not index.dwarf or index.symbol_named(CURRENT) is None:
        return None
    reader = VariableReader(index, memory)
    current = reader.global_named(CURRENT)
    if current is None:
        return None
    try:
        tcb = tcb_layout(pointee(current.value.type))
        lists, layout = kernel_lists(reader, current)
    except LayoutError as error:
        return Kernel(NAME, [], problems=[f"the FreeRTOS structures are not as expected: {error}"])
    except UnreadableMemory as error:
        return Kernel(NAME, [], problems=[f"the kernel's variables were not captured ({error})"])
    if lists.current == 0:
        return None  # the scheduler never started: no task runs yet
    return _kernel(memory, index, lists, layout, tcb)


def _kernel(memory, index, lists: KernelLists, layout: ListLayout, tcb: TcbLayout) -> Kernel:
    kernel = Kernel(NAME, [])
    found = []
    for list_address in lists.walk_order():
        walk = walk_list(memory, list_address, layout)
        if walk.problem:
            kernel.problems.append(walk.problem)
        found += [owner for _, owner in walk.items if owner not in found]
    if lists.current not in found:
        found.insert(0, lists.current)
        kernel.problems.append(f"pxCurrentTCB 0x{lists.current:08x} is in none of the lists")
    if lists.task_count is not None and lists.task_count != len(found):
        kernel.problems.append(
            f"uxCurrentNumberOfTasks is {lists.task_count}, the lists hold {len(found)} tasks"
        )
    fpu_port = _is_fpu_port(memory, index)
    kernel.threads = [_task(memory, index, a, tcb, lists, fpu_port) for a in found[:MAX_TASKS]]
    return kernel


# Layouts ---------------------------------------------------------------------------------


def tcb_layout(tcb: Type) -> TcbLayout:
    _, name_size = element(type_of(tcb, "pcTaskName"))
    notify = optional_offset(tcb, "ucNotifyState")
    entries = element(type_of(tcb, "ucNotifyState"))[1] if notify is not None else 0
    item = type_of(tcb, "xStateListItem")
    return TcbLayout(
        size=tcb.byte_size,
        top_of_stack=offset_of(tcb, "pxTopOfStack"),
        state_item=offset_of(tcb, "xStateListItem"),
        event_item=offset_of(tcb, "xEventListItem"),
        priority=offset_of(tcb, "uxPriority"),
        stack=offset_of(tcb, "pxStack"),
        name=offset_of(tcb, "pcTaskName"),
        name_size=name_size,
        item_value=offset_of(item, "xItemValue"),
        item_container=_container_offset(item),
        end_of_stack=optional_offset(tcb, "pxEndOfStack"),
        notify_state=notify,
        notify_entries=entries,
    )


def _container_offset(item: Type) -> int:
    found = optional_offset(item, "pxContainer")
    return found if found is not None else offset_of(item, "pvContainer")


def list_layout(list_type) -> ListLayout:
    end_type = type_of(list_type, "xListEnd")
    item = pointee(type_of(end_type, "pxNext"))
    return ListLayout(
        count=offset_of(list_type, "uxNumberOfItems"),
        end=offset_of(list_type, "xListEnd"),
        end_next=offset_of(end_type, "pxNext"),
        next=offset_of(item, "pxNext"),
        owner=offset_of(item, "pvOwner"),
        container=_container_offset(item),
    )


def kernel_lists(reader, current) -> tuple[KernelLists, ListLayout]:
    """The addresses of tasks.c's lists (both delayed lists: pxDelayedTaskList and
    pxOverflowDelayedTaskList only say which is which), the running task and the count.
    Lists a configuration leaves out (INCLUDE_vTaskSuspend, INCLUDE_vTaskDelete) are None."""
    ready = _tasks_variable(reader, "pxReadyTasksLists")
    if ready is None:
        raise LayoutError("no variable pxReadyTasksLists")
    list_type, count = element(ready.value.type)
    layout = list_layout(list_type)
    size = list_type.byte_size
    lists = KernelLists(
        current=_integer(current),
        ready=[ready.address + n * size for n in range(count)],
        pending=_address(reader, "xPendingReadyList"),
        delayed=[a for a in (_address(reader, name) for name in DELAYED) if a is not None],
        suspended=_address(reader, "xSuspendedTaskList"),
        terminating=_address(reader, "xTasksWaitingTermination"),
    )
    count_variable = _tasks_variable(reader, "uxCurrentNumberOfTasks")
    if count_variable is not None and count_variable.value.error is None:
        lists.task_count = count_variable.value.integer()
    return lists, layout


def _tasks_variable(reader, name: str):
    return reader.global_named(name, TASKS_UNIT) or reader.global_named(name)


def _address(reader, name: str) -> int | None:
    variable = _tasks_variable(reader, name)
    return variable.address if variable is not None else None


def _integer(variable) -> int:
    if variable.value.error is not None:
        raise UnreadableMemory(variable.address or 0, variable.size)
    return variable.value.integer(signed=False)


# Lists -----------------------------------------------------------------------------------


def walk_list(memory, list_address: int, layout: ListLayout, limit: int = MAX_TASKS) -> ListWalk:
    """The items of a List_t from xListEnd.pxNext back to &xListEnd.

    A corrupt list may loop or run on past its end marker: the walk stops at an item
    seen before, after uxNumberOfItems items (and never after `limit`), and at memory
    that was not captured, and says why.
    """
    end = list_address + layout.end
    try:
        count = memory.read_u32(list_address + layout.count)
        item = memory.read_u32(end + layout.end_next)
    except UnreadableMemory as error:
        return ListWalk([], f"the list at 0x{list_address:08x} was not captured ({error})")
    walk, visited = ListWalk([]), {end}
    while item != end:
        if item in visited:
            return _stop(walk, f"the list at 0x{list_address:08x} loops at 0x{item:08x}")
        if len(walk.items) >= min(count, limit):
            return _stop(
                walk,
                f"the list at 0x{list_address:08x} holds more than its uxNumberOfItems "
                f"({count}); stopped at 0x{item:08x}",
            )
        visited.add(item)
        try:
            owner = memory.read_u32(item + layout.owner)
            container = memory.read_u32(item + layout.container)
            following = memory.read_u32(item + layout.next)
        except UnreadableMemory as error:
            return _stop(
                walk, f"an item of the list at 0x{list_address:08x} was not captured ({error})"
            )
        if container != list_address:
            return _stop(
                walk,
                f"the item at 0x{item:08x} says it is in the list at 0x{container:08x}, "
                f"not 0x{list_address:08x}",
            )
        walk.items.append((item, owner))
        item = following
    if len(walk.items) != count:
        walk.problem = (
            f"the list at 0x{list_address:08x} holds {len(walk.items)} items, "
            f"its uxNumberOfItems says {count}"
        )
    return walk


def _stop(walk: ListWalk, problem: str) -> ListWalk:
    walk.problem = problem
    return walk


# Tasks -----------------------------------------------------------------------------------


@dataclass
class TaskFacts:
    """What eTaskGetState looks at."""

    address: int
    state_list: int  # xStateListItem.pxContainer
    event_list: int  # xEventListItem.pxContainer
    waiting_notification: bool = False


def task_state(task: TaskFacts, lists: KernelLists) -> str:
    """eTaskGetState (tasks.c): a task in xSuspendedTaskList is blocked, not suspended,
    when it waits on an event or for a notification, only with no timeout."""
    if task.address == lists.current:
        return RUNNING
    if lists.pending is not None and task.event_list == lists.pending:
        return READY  # readied while the scheduler was suspended
    if task.state_list in lists.delayed:
        return BLOCKED
    if lists.suspended is not None and task.state_list == lists.suspended:
        return BLOCKED if task.event_list or task.waiting_notification else SUSPENDED
    if task.state_list == 0 or task.state_list == lists.terminating:
        return DELETED
    return READY


def _task(memory, index, address: int, tcb: TcbLayout, lists: KernelLists, fpu_port) -> ThreadInfo:
    try:
        data = memory.read(address, tcb.size)
    except UnreadableMemory as error:
        return ThreadInfo(
            name=f"TCB@0x{address:08x}",
            state=RUNNING if address == lists.current else "unknown",
            is_current=address == lists.current,
            address=address,
            problems=[f"its TCB was not captured ({error})"],
        )
    facts = _facts(address, data, tcb)
    thread = ThreadInfo(
        name=c_string(data[tcb.name : tcb.name + tcb.name_size]) or f"TCB@0x{address:08x}",
        state=task_state(facts, lists),
        is_current=address == lists.current,
        priority=word(data, tcb.priority),
        address=address,
    )
    thread.notes += _state_notes(facts, data, tcb, lists, thread.state)
    _stack(thread, memory, index, data, tcb)
    if not thread.is_current:
        top = word(data, tcb.top_of_stack)
        thread.registers, note, problem = saved_registers(memory, index, top, fpu_port)
        thread.notes += [note] if note else []
        thread.problems += [problem] if problem else []
    return thread


def _facts(address: int, data: bytes, tcb: TcbLayout) -> TaskFacts:
    return TaskFacts(
        address=address,
        state_list=word(data, tcb.state_item + tcb.item_container),
        event_list=word(data, tcb.event_item + tcb.item_container),
        waiting_notification=tcb.notify_state is not None
        and TASK_WAITING_NOTIFICATION
        in data[tcb.notify_state : tcb.notify_state + tcb.notify_entries],
    )


def _state_notes(facts: TaskFacts, data, tcb: TcbLayout, lists: KernelLists, state) -> list[str]:
    if state == READY and facts.event_list and facts.event_list == lists.pending:
        return ["readied while the scheduler was suspended (in xPendingReadyList)"]
    if state == BLOCKED and facts.state_list in lists.delayed:
        wake = word(data, tcb.state_item + tcb.item_value)
        event = ", on an event list" if facts.event_list else ""
        return [f"delayed until tick {wake}{event}"]
    if state == BLOCKED:
        what = "an event" if facts.event_list else "a task notification"
        return [f"waits for {what} with no timeout (in xSuspendedTaskList)"]
    if state == DELETED and facts.state_list:
        return ["deleted itself; the idle task has not freed it yet (xTasksWaitingTermination)"]
    if state == DELETED:
        return ["deleted: its xStateListItem is in no list"]
    return []


def _stack(thread: ThreadInfo, memory, index, data: bytes, tcb: TcbLayout) -> None:
    """pxStack is the stack's lowest address. Its size: from pxEndOfStack when the TCB
    has one (the highest usable word), else from the static buffer's symbol; the
    high-water mark counts 0xA5 bytes from pxStack up, as uxTaskGetStackHighWaterMark."""
    base = word(data, tcb.stack)
    thread.stack_base = base
    if tcb.end_of_stack is not None:
        end = word(data, tcb.end_of_stack)
        thread.stack_size = end + STACK_WORD - base if end >= base else None
    if thread.stack_size is None:
        thread.stack_size = symbol_size_at(index, base)
    if thread.stack_size is None:
        thread.notes.append("stack size unknown: no pxEndOfStack and no symbol at pxStack")
        top = word(data, tcb.top_of_stack)
        limit = top - base if top > base else 0
    else:
        limit = thread.stack_size
    thread.stack_unused = unused_stack(memory, base, limit, FILL_BYTE) if limit else None


# Saved context ---------------------------------------------------------------------------


def _is_fpu_port(memory, index) -> bool:
    """The ARM_CM4F port saves EXC_RETURN (and s16-s31); the ARM_CM3 port does not.
    pyOCD's test: the FPU ports define vPortEnableVFP. Else OpenOCD's: CPACR enables
    CP10/CP11 (when the dump has it)."""
    if index.symbol_named(FPU_PORT_SYMBOL) is not None:
        return True
    try:
        return memory.read_u32(CPACR) & CPACR_CP10_CP11 == CPACR_CP10_CP11
    except UnreadableMemory:
        return False


def saved_registers(memory, index, save_area: int, fpu_port: bool):
    """The registers the port saved at pxTopOfStack, a note and a problem (each or None).

    The expected layout is checked (EXC_RETURN slot, stacked xPSR and pc); if it fails
    and the other layout passes, that one is used and the note says so. Registers are
    None only when the save area was not captured.
    """
    expected, other = (CM4F, CM3) if fpu_port else (CM3, CM4F)
    try:
        registers, problem = _read_layout(memory, index, save_area, expected)
    except UnreadableMemory as error:
        return None, None, f"its saved context at 0x{save_area:08x} was not captured ({error})"
    if problem is None:
        return registers, None, None
    try:
        fallback, fallback_problem = _read_layout(memory, index, save_area, other)
    except UnreadableMemory:
        fallback_problem = "not captured"
    if fallback_problem is None:
        note = f"registers read with the {other} layout: the {expected} layout failed its checks"
        return fallback, f"{note} ({problem})", None
    return (
        registers,
        None,
        (
            f"the saved context at 0x{save_area:08x} fails the checks of both ports ({problem}); "
            f"registers shown as the {expected} layout reads them"
        ),
    )


def _read_layout(memory, index, save_area: int, port: str):
    has_exc_return = port == CM4F
    problem = None
    if has_exc_return:
        problem = exc_return_problem(memory.read_u32(save_area + 0x20))
    registers = read_saved_context(memory, save_area, has_exc_return=has_exc_return)
    return registers, problem or context_problem(registers, index)

"""Zephyr awareness: every thread from `_kernel.threads`, read through DWARF.

With CONFIG_THREAD_MONITOR the kernel links all threads through
k_thread.next_thread from `_kernel.threads`; `_kernel.cpus[0].current` is the
running one (cortex-m-unwinding.md 4.2). Offsets come from the DWARF of
`struct z_kernel` and `struct k_thread`; members that depend on Kconfig (name,
stack_info, arch.mode_exc_return, arch.preempt_float) are optional.

1. Find `_kernel`. When the dump did not capture its RAM but carries the 'T'
   block (a raw copy of `_kernel`, section 5.1), read that copy at the symbol's
   address instead.
2. Walk the thread list, bounded by a visited set.
3. Per thread: name, state bits as names, priority, stack bounds and use (0xAA
   fill of CONFIG_INIT_STACKS), and for every thread but the running one the
   registers z_arm_pendsv saved: r4-r11 and PSP in callee_saved, the hardware
   frame at PSP, EXC_RETURN's low byte in arch.mode_exc_return and s16-s31 in
   arch.preempt_float when its bit 4 is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.errors import UnreadableMemory
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span
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
    symbol_name_at,
    type_of,
    word,
)
from symbolicator.rtos.saved_context import unused_stack
from symbolicator.unwind import cortex_m
from symbolicator.variables import VariableReader
from symbolicator.variables.types import Type

NAME = "Zephyr"
KERNEL = "_kernel"
FILL_BYTE = 0xAA  # CONFIG_INIT_STACKS
STACK_SENTINEL = 0xF0F0F0F0  # CONFIG_STACK_SENTINEL, at the lowest word
MAX_THREADS = 256
BASIC_EXC_RETURN = 0xFFFFFFFD  # what z_arm_pendsv returns with without ARM_STORE_EXC_RETURN
EXTENDED_EXC_RETURN = 0xFFFFFFED  # Thread mode, PSP, extended frame
# struct _thread_base.thread_state (kernel_structs.h). Bit 2 is _THREAD_SLEEPING from
# Zephyr 3.7 on; older kernels used it for _THREAD_PRESTART.
STATE_BITS = (
    (0x01, "dummy"),
    (0x02, "pending"),
    (0x04, "sleeping"),
    (0x08, "dead"),
    (0x10, "suspended"),
    (0x20, "aborting"),
    (0x40, "suspending"),
    (0x80, "queued"),
)
NOT_BLOCKING = {"queued"}  # a ready thread is in the run queue


@dataclass(frozen=True)
class ThreadLayout:
    size: int
    state: int  # base.thread_state
    prio: int  # base.prio
    pended_on: int | None  # base.pended_on
    registers: tuple[int, ...]  # callee_saved.v1 .. v8 (r4 .. r11)
    psp: int  # callee_saved.psp
    next_thread: int | None  # CONFIG_THREAD_MONITOR
    name: int | None = None  # CONFIG_THREAD_NAME
    name_size: int = 0
    stack_start: int | None = None  # CONFIG_THREAD_STACK_INFO
    stack_size: int | None = None
    exc_return: int | None = None  # arch.mode_exc_return, CONFIG_ARM_STORE_EXC_RETURN
    preempt_float: int | None = None  # arch.preempt_float, CONFIG_FPU_SHARING
    entry: int | None = None  # entry.pEntry


@dataclass(frozen=True)
class KernelLayout:
    current: int  # cpus[0].current
    threads: int | None  # threads, CONFIG_THREAD_MONITOR


def discover(memory, index, coredump=None) -> Kernel | None:
    symbol = index.symbol_named(KERNEL) if index.dwarf else None
    if symbol is None:
        return None
    memory = with_kernel_copy(memory, index, symbol.address, coredump)
    variable = VariableReader(index, memory).global_named(KERNEL)
    if variable is None:
        return None
    try:
        kernel_layout, thread_layout = layouts(variable.value.type)
    except LayoutError as error:
        return Kernel(NAME, [], problems=[f"the Zephyr structures are not as expected: {error}"])
    if variable.value.error is not None:
        return Kernel(NAME, [], problems=[f"_kernel was not captured ({variable.value.error})"])
    data = variable.value.data
    current = word(data, kernel_layout.current)
    if current == 0:
        return None  # the kernel has not started multithreading
    return _kernel(memory, index, data, kernel_layout, thread_layout, current)


def with_kernel_copy(memory, index, address: int, coredump) -> Memory:
    """`memory`, plus the 'T' block's copy of `_kernel` at its symbol's address when the
    dump did not capture that RAM itself."""
    extra = getattr(coredump, "extra", None) or {}
    copy = (extra.get("zephyr_kernel") or {}).get("data")
    if not copy or memory.can_read(address, len(copy)):
        return memory
    spans = [*memory.captured_spans, Span(address, bytes(copy), SOURCE_COREDUMP)]
    return Memory(spans, index.read_only)


def _kernel(memory, index, data, kernel_layout, layout, current) -> Kernel:
    kernel = Kernel(NAME, [])
    addresses = [current]
    if kernel_layout.threads is None:
        kernel.problems.append("CONFIG_THREAD_MONITOR is off: only the running thread is known")
    else:
        addresses, problem = walk_threads(memory, word(data, kernel_layout.threads), layout)
        if problem:
            kernel.problems.append(problem)
        if current not in addresses:
            addresses.insert(0, current)
            kernel.problems.append(f"the running thread 0x{current:08x} is not in _kernel.threads")
    kernel.threads = [_thread(memory, index, a, layout, a == current) for a in addresses]
    return kernel


# Layouts ---------------------------------------------------------------------------------


def layouts(kernel_type: Type) -> tuple[KernelLayout, ThreadLayout]:
    cpu_type, _ = element(type_of(kernel_type, "cpus"))
    current = offset_of(kernel_type, "cpus") + offset_of(cpu_type, "current")
    thread = pointee(type_of(cpu_type, "current"))
    return KernelLayout(current, optional_offset(kernel_type, "threads")), thread_layout(thread)


def thread_layout(thread: Type) -> ThreadLayout:
    name = optional_offset(thread, "name")
    return ThreadLayout(
        size=thread.byte_size,
        state=offset_of(thread, "base.thread_state"),
        prio=offset_of(thread, "base.prio"),
        pended_on=optional_offset(thread, "base.pended_on"),
        registers=tuple(offset_of(thread, f"callee_saved.v{n}") for n in range(1, 9)),
        psp=offset_of(thread, "callee_saved.psp"),
        next_thread=optional_offset(thread, "next_thread"),
        name=name,
        name_size=element(type_of(thread, "name"))[1] if name is not None else 0,
        stack_start=optional_offset(thread, "stack_info.start"),
        stack_size=optional_offset(thread, "stack_info.size"),
        exc_return=optional_offset(thread, "arch.mode_exc_return"),
        preempt_float=optional_offset(thread, "arch.preempt_float"),
        entry=optional_offset(thread, "entry.pEntry"),
    )


# Threads ---------------------------------------------------------------------------------


def walk_threads(memory, first: int, layout: ThreadLayout, limit: int = MAX_THREADS):
    """k_thread addresses from `_kernel.threads` along next_thread; stops at a thread seen
    before (a loop), at uncaptured memory and after `limit`, and says why."""
    found: list[int] = []
    pointer = first
    while pointer:
        if pointer in found:
            return found, f"_kernel.threads loops at 0x{pointer:08x}"
        if len(found) >= limit:
            return found, f"_kernel.threads holds more than {limit} threads; stopped"
        found.append(pointer)
        try:
            pointer = memory.read_u32(pointer + layout.next_thread)
        except UnreadableMemory as error:
            return found, f"the thread at 0x{found[-1]:08x} was not captured ({error})"
    return found, None


def thread_state(bits: int, is_current: bool) -> str:
    """The state to show: "running" for the current thread, else the blocking bits joined
    by "+", or "ready" when none is set (a thread in the run queue is only "queued")."""
    if is_current:
        return "running"
    names = [name for bit, name in STATE_BITS if bits & bit and name not in NOT_BLOCKING]
    return "+".join(names) or "ready"


def state_names(bits: int) -> list[str]:
    return [name for bit, name in STATE_BITS if bits & bit]


def _thread(memory, index, address: int, layout: ThreadLayout, is_current: bool) -> ThreadInfo:
    try:
        data = memory.read(address, layout.size)
    except UnreadableMemory as error:
        return ThreadInfo(
            name=f"thread@0x{address:08x}",
            state="running" if is_current else "unknown",
            is_current=is_current,
            address=address,
            problems=[f"its struct k_thread was not captured ({error})"],
        )
    bits = data[layout.state]
    thread = ThreadInfo(
        name=_name(index, data, layout) or f"thread@0x{address:08x}",
        state=thread_state(bits, is_current),
        is_current=is_current,
        priority=int.from_bytes(data[layout.prio : layout.prio + 1], "little", signed=True),
        address=address,
    )
    thread.notes.append(_state_note(index, data, layout, bits))
    _stack(thread, memory, data, layout)
    if not is_current:
        thread.registers, note, problem = saved_registers(memory, index, data, layout)
        thread.notes += [note] if note else []
        thread.problems += [problem] if problem else []
    return thread


def _name(index, data: bytes, layout: ThreadLayout) -> str | None:
    if layout.name is not None:
        name = c_string(data[layout.name : layout.name + layout.name_size])
        if name:
            return name
    if layout.entry is not None:  # an unnamed thread: call it after its entry function
        found = index.symbol_at(word(data, layout.entry) & ~1)
        return found[0] if found and found[1] == 0 else None
    return None


def _state_note(index, data: bytes, layout: ThreadLayout, bits: int) -> str:
    note = f"thread_state 0x{bits:02x}: {', '.join(state_names(bits)) or 'none set'}"
    if bits & 0x02 and layout.pended_on is not None:
        wait_queue = symbol_name_at(index, word(data, layout.pended_on))
        note += f"; pended on {wait_queue}" if wait_queue else ""
    return note


def _stack(thread: ThreadInfo, memory, data: bytes, layout: ThreadLayout) -> None:
    """stack_info.start and .size; use is the CONFIG_INIT_STACKS fill (0xAA) from the
    bottom up, past a CONFIG_STACK_SENTINEL word if there is one."""
    if layout.stack_start is None or layout.stack_size is None:
        thread.notes.append("no stack_info (CONFIG_THREAD_STACK_INFO is off)")
        return
    base, size = word(data, layout.stack_start), word(data, layout.stack_size)
    thread.stack_base, thread.stack_size = base, size
    try:
        sentinel = memory.read_u32(base) == STACK_SENTINEL
    except UnreadableMemory:
        return
    skip = 4 if sentinel else 0
    unused = unused_stack(memory, base + skip, size - skip, FILL_BYTE)
    thread.stack_unused = unused + skip if unused is not None else None


# Saved context ---------------------------------------------------------------------------


def saved_registers(memory, index, data: bytes, layout: ThreadLayout):
    """The registers of a switched-out thread, a note and a problem (each or None).

    r4-r11 come from callee_saved, the rest from the hardware frame at callee_saved.psp.
    EXC_RETURN says whether that frame is extended (and s16-s31 are in preempt_float).
    When the stored EXC_RETURN or the frame fails the plausibility checks, a basic and
    (with FPU sharing) an extended frame are tried, and the note says which one was
    used. A thread whose stack at PSP was not captured has no registers.
    """
    stored = BASIC_EXC_RETURN
    if layout.exc_return is not None:
        stored = 0xFFFFFF00 | data[layout.exc_return]
    psp = word(data, layout.psp)
    try:
        registers, problem = _read_frame(memory, index, data, layout, stored)
    except UnreadableMemory as error:
        return None, None, f"its stack at PSP 0x{psp:08x} was not captured ({error})"
    if problem is None:
        return registers, None, None
    others = [BASIC_EXC_RETURN] + ([EXTENDED_EXC_RETURN] if layout.preempt_float else [])
    for other in (value for value in others if value != stored):
        try:
            fallback, fallback_problem = _read_frame(memory, index, data, layout, other)
        except UnreadableMemory:
            continue
        if fallback_problem is None:
            note = f"read as EXC_RETURN 0x{other:08x}: 0x{stored:08x} failed its checks"
            return fallback, f"{note} ({problem})", None
    return (
        registers,
        None,
        (
            f"the saved context at PSP 0x{psp:08x} fails its checks ({problem}); registers "
            "shown as read"
        ),
    )


def _read_frame(memory, index, data: bytes, layout: ThreadLayout, exc_return: int):
    registers = {f"r{4 + n}": word(data, offset) for n, offset in enumerate(layout.registers)}
    exc = cortex_m.ExcReturn(exc_return)
    if exc.extended_frame and layout.preempt_float is not None:
        base = layout.preempt_float
        registers.update({f"s{16 + n}": word(data, base + 4 * n) for n in range(16)})
    stacked = cortex_m.read_exception_frame(memory, exc, word(data, layout.psp))
    registers.update(stacked.registers)
    registers["sp"] = registers["psp"] = stacked.sp_before
    return registers, exc_return_problem(exc_return) or context_problem(registers, index)

"""dre's test-firmware scheduler, read through its documented descriptor
`g_dre_scheduler` (tests/firmware/README.md, "Scheduler descriptor").

A template for home-grown schedulers: find the descriptor by symbol, check
its magic and version, read each thread's name, state, stack bounds and save
area, and let saved_context decode the registers.
"""

from __future__ import annotations

import struct

from symbolicator.errors import UnreadableMemory
from symbolicator.rtos import Kernel, ThreadInfo
from symbolicator.rtos.saved_context import read_saved_context, unused_stack

SYMBOL = "g_dre_scheduler"
MAGIC = 0x53455244
VERSION = 1
HEADER = struct.Struct("<IIII")  # magic, version, thread_count, current
THREAD = struct.Struct("<IIIIII")  # name, saved_sp, stack_base, stack_size, state, priority
MAX_THREADS = 32
STATES = {0: "unused", 1: "ready", 2: "running", 3: "sleeping", 4: "blocked", 5: "exited"}
FILL_BYTE = 0xA5


def discover(memory, index) -> Kernel | None:
    symbol = index.symbol_named(SYMBOL)
    if symbol is None:
        return None
    try:
        magic, version, count, current = HEADER.unpack(memory.read(symbol.address, HEADER.size))
    except UnreadableMemory:
        return None
    if magic != MAGIC or version != VERSION:
        return None
    threads = []
    for n in range(min(count, MAX_THREADS)):
        address = symbol.address + HEADER.size + n * THREAD.size
        threads.append(_thread(memory, address, is_current=address == current))
    return Kernel("dre test scheduler", threads)


def _thread(memory, address: int, *, is_current: bool) -> ThreadInfo:
    name_at, saved_sp, base, size, state, priority = THREAD.unpack(
        memory.read(address, THREAD.size)
    )
    thread = ThreadInfo(
        name=_c_string(memory, name_at) or f"thread@0x{address:08x}",
        state=STATES.get(state, f"state {state}"),
        is_current=is_current,
        stack_base=base,
        stack_size=size,
        stack_unused=unused_stack(memory, base, size, FILL_BYTE),
        priority=priority,
    )
    if not is_current and state in (1, 3, 4):
        try:
            thread.registers = read_saved_context(memory, saved_sp)
        except UnreadableMemory as error:
            thread.problems.append(
                f"its saved context at 0x{saved_sp:08x} was not captured ({error})"
            )
    return thread


def _c_string(memory, address: int, limit: int = 64) -> str | None:
    out = bytearray()
    try:
        while len(out) < limit:
            byte = memory.read(address + len(out), 1)[0]
            if byte == 0:
                break
            out.append(byte)
    except UnreadableMemory:
        return None
    return out.decode("utf-8", errors="replace")

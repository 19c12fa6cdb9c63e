"""RTOS awareness: find every thread of a crashed firmware and its saved context.

Each awareness module reads one kernel's published data structures from the
coredump's memory. `discover_threads` returns what the first one that
recognizes the firmware finds, or nothing for bare-metal firmware.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ThreadInfo:
    name: str
    state: str
    is_current: bool
    registers: dict[str, int] | None = None  # None for the running thread: the crash context
    stack_base: int | None = None
    stack_size: int | None = None
    stack_unused: int | None = None  # bytes still holding the fill pattern (high-water mark)
    priority: int | None = None
    problems: list[str] = field(default_factory=list)  # what could not be read or trusted
    address: int | None = None  # the kernel's object for the thread (TCB, k_thread)
    notes: list[str] = field(default_factory=list)  # what a reader should know, e.g. the wait

    @property
    def stack(self) -> dict[str, int] | None:
        if self.stack_base is None:
            return None
        out = {"base": self.stack_base}
        if self.stack_size is not None:
            out["size"] = self.stack_size
            if self.stack_unused is not None:
                out["unused"] = self.stack_unused
                out["used"] = self.stack_size - self.stack_unused
        return out


@dataclass
class Kernel:
    name: str
    threads: list[ThreadInfo]
    problems: list[str] = field(default_factory=list)  # e.g. a corrupt list, a count mismatch


def discover_threads(memory, index, coredump=None) -> Kernel | None:
    """The threads of the first kernel that recognizes the firmware. `coredump` lets an
    awareness use what a device format carries besides memory (Zephyr's 'T' block)."""
    from symbolicator.rtos import dre_scheduler, freertos, zephyr

    finders = (
        lambda: dre_scheduler.discover(memory, index),
        lambda: freertos.discover(memory, index),
        lambda: zephyr.discover(memory, index, coredump),
    )
    for find in finders:
        kernel = find()
        if kernel is not None:
            return kernel
    return None

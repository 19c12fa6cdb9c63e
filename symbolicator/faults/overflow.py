"""Stack overflow detection, and which thread's stack it was.

Works even when nothing can be unwound (a failed stacking leaves garbage in
the exception frame): the stack pointers come from the coredump's register
block, the stack bounds from the RTOS awareness (Trace threads' `stack`).

Evidence, any of which is enough:
1. MSTKERR / STKERR: stacking the exception frame faulted, typically into an
   MPU guard or off the end of RAM (cortex-m-unwinding.md 6.2, 6.3);
2. STKOF: an Armv8-M stack limit register tripped;
3. the SP is below the base of the stack it belongs to;
4. a data fault address lies in the SP's stack below the SP: memory a stack
   owns but does not use yet is only inaccessible when it is a guard region;
5. the firmware said so: Memfault reason 0x800B, Zephyr stack reasons.
A thread whose fill pattern is gone down to the base is reported as supporting
evidence only: the high-water mark says it overflowed once, not that it did now.
"""

from __future__ import annotations

import itertools

from symbolicator.faults.model import FaultAddress, StackOverflow
from symbolicator.faults.reasons import STACK_OVERFLOW, ZEPHYR_STACK_OVERFLOWS
from symbolicator.trace import Frame, FrameKind, Thread

STACKING_BITS = ("MSTKERR", "STKERR", "STKOF")
RECURSION_MIN_FRAMES = 3


def detect_stack_overflow(
    causes: list[str],
    sp: int | None,
    stack: str | None,
    address: FaultAddress | None,
    threads: list[Thread],
    reasons: tuple[int | None, int | None] = (None, None),
    frames: list[Frame] = (),
) -> StackOverflow | None:
    """`sp` and `stack` ("MSP"/"PSP") are the interrupted code's; `reasons` are the
    Memfault trace reason and the Zephyr reason; `frames` the crashed thread's."""
    owner = _owner(threads, sp, stack)
    evidence = [bit for bit in STACKING_BITS if bit in causes]
    evidence += _bounds_evidence(owner, sp, address)
    evidence += reported(*reasons)
    if not evidence:
        return None
    if owner is not None and _exhausted(owner):
        evidence.append("high_water_mark_at_base")
    if owner is None and stack == "PSP":
        owner = next((t for t in threads if t.crashed), None)
    bounds = owner.stack if owner is not None and owner.stack else {}
    overflow = StackOverflow(
        thread=owner.name if owner is not None else None,
        stack=stack,
        sp=sp,
        stack_base=bounds.get("base"),
        stack_size=bounds.get("size"),
        evidence=evidence,
    )
    if owner is None or owner.crashed:  # only the crashed thread's frames reach the fault
        overflow.recursion, overflow.recursion_depth = recursion(frames)
    return overflow


def recursion(frames: list[Frame]) -> tuple[str | None, int]:
    """The longest run of one function in consecutive frames, if it is a recursion."""
    functions = (f.function for f in frames if f.kind != FrameKind.INLINE)
    runs = [(name, len(list(run))) for name, run in itertools.groupby(functions) if name]
    name, depth = max(runs, key=lambda run: run[1], default=(None, 0))
    return (name, depth) if depth >= RECURSION_MIN_FRAMES else (None, 0)


def _bounds(thread: Thread) -> tuple[int, int] | None:
    stack = thread.stack or {}
    if "base" not in stack or "size" not in stack:
        return None
    return stack["base"], stack["base"] + stack["size"]


def _owner(threads: list[Thread], sp: int | None, stack: str | None) -> Thread | None:
    """The thread whose stack holds `sp`. On PSP, which only threads use, else the
    stack ending just above `sp` (no further below it than its own size), else the
    crashed thread if `sp` is anywhere below its base."""
    if sp is None:
        return None
    bounded = [(t, b) for t in threads if (b := _bounds(t)) is not None]
    for thread, (low, high) in bounded:
        if low <= sp <= high:
            return thread
    if stack != "PSP":
        return None
    near = [(low - sp, t) for t, (low, high) in bounded if 0 < low - sp <= high - low]
    if near:
        return min(near, key=lambda item: item[0])[1]
    return next((t for t, (low, _) in bounded if t.crashed and sp < low), None)


def _bounds_evidence(owner: Thread | None, sp, address: FaultAddress | None) -> list[str]:
    bounds = _bounds(owner) if owner is not None else None
    if bounds is None:
        return []
    evidence = []
    if sp is not None and sp < bounds[0]:
        evidence.append("sp_below_stack_base")
    data_address = address is not None and address.source != "PC"
    limit = sp if sp is not None and bounds[0] <= sp <= bounds[1] else bounds[1]
    if data_address and bounds[0] <= address.address < limit:
        evidence.append("fault_address_in_unused_stack")
    return evidence


def reported(trace_reason: int | None, zephyr_reason: int | None) -> list[str]:
    evidence = []
    if trace_reason == STACK_OVERFLOW:
        evidence.append("trace_reason")
    if zephyr_reason in ZEPHYR_STACK_OVERFLOWS:
        evidence.append("zephyr_reason")
    return evidence


def _exhausted(thread: Thread) -> bool:
    stack = thread.stack or {}
    return "used" in stack and "size" in stack and stack["used"] >= stack["size"]

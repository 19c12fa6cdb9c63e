"""A fault taken while the fault path itself ran: the crash handler or the coredump saver.

Such a dump holds the registers of the second fault, while the trace reason is the
first one's: the Memfault SDK's memfault_fault_handler records the reason on its first
entry only, and the same holds for dre's test firmware (memfault-elf-metadata.md, "Where
the example differs": the SDK's FreeRTOS example faults while saving the coredump of a
stack overflow, reading past the end of RAM in memcpy under memfault_coredump_save).

Evidence, either is enough:
1. the stacked xPSR says the interrupted code was itself an NMI or fault handler (IPSR
   2-7, ARMv7-M ARM B1.4.2 and B1.5.2): only the fault path runs there, and a fault
   inside it is escalated to HardFault or locks the core up (B1.5.15);
2. a frame above the first exception frame is a known fault-path function (FUNCTIONS):
   the second fault's own frames say which handler it hit.

What is left of the first fault (steps):
1. its reason: the recorded trace reason;
2. its thread: the one the RTOS had running (or the crashed thread's name);
3. its context: when unwinding got through the handler's exception frame, the frames
   after it are the first fault's ("unwound"); otherwise it is lost with the second
   fault's registers ("lost").
"""

from __future__ import annotations

import re

from symbolicator.faults import exceptions as exc
from symbolicator.faults.model import Context, FaultPath, Place
from symbolicator.faults.reasons import trace_reason_info
from symbolicator.trace import Frame, FrameKind

# Handlers that only the fault path runs, by the exception number they serve.
HANDLER_EXCEPTIONS = {exc.NMI, *exc.FAULT_EXCEPTIONS}
# The crash handlers and coredump savers of the Memfault SDK (memfault_fault_handler,
# memfault_coredump_save, memfault_platform_coredump_storage_*), Zephyr (z_arm_fault,
# z_fatal_error, coredump) and dre's test firmware (fault_handler_c, coredump_write).
FUNCTIONS = re.compile(
    r"^(memfault_fault_handler|memfault_coredump_save|memfault_platform_coredump_\w+|"
    r"prv_write_coredump_sections|z_arm_fault|z_fatal_error|coredump|z_coredump\w*|"
    r"fault_handler_c|fault_snapshot_taken|coredump_write|__wrap_fault_handler_c|"
    r"HardFault_Handler|MemManage_Handler|MemoryManagement_Handler|BusFault_Handler|"
    r"UsageFault_Handler|NMI_Handler)$"
)


def detect_fault_path(
    context: Context, frames: list[Frame], trace_reason: int | None
) -> FaultPath | None:
    """`context` is the interrupted code's (from the stacked xPSR); `frames` the crashed
    thread's, starting at the second fault."""
    handler_frames = _until_exception(frames)
    functions = [f.function for f in handler_frames if f.function and FUNCTIONS.match(f.function)]
    evidence = []
    if context.mode == "handler" and context.exception_number in HANDLER_EXCEPTIONS:
        evidence.append("interrupted_fault_handler")
    if functions:
        evidence.append("fault_path_frames")
    if not evidence:
        return None
    interrupted = evidence[0] == "interrupted_fault_handler"
    path = FaultPath(
        evidence=evidence,
        interrupted_handler=context.exception if interrupted else None,
        functions=list(dict.fromkeys(functions)),
        first_thread=context.thread,
    )
    if trace_reason is not None:
        path.first_reason = trace_reason
        path.first_reason_name = trace_reason_info(trace_reason).name
    _first_context(path, frames, len(handler_frames))
    return path


def _until_exception(frames: list[Frame]) -> list[Frame]:
    """The second fault's own frames: up to the first exception frame."""
    out = []
    for frame in frames:
        if frame.kind == FrameKind.EXCEPTION:
            break
        out.append(frame)
    return out


def _first_context(path: FaultPath, frames: list[Frame], separator: int) -> None:
    """Step 3: the first real frame after the handler's exception frame, if any."""
    first = separator + 1
    if first >= len(frames) or frames[first].kind == FrameKind.EXCEPTION:
        path.first_context = "lost"
        return
    frame = frames[first]
    location = frame.location
    path.first_context = "unwound"
    path.first_frame = first
    path.first_place = Place(
        frame.pc,
        frame.function,
        location.file if location else None,
        location.line if location else None,
        first,
    )

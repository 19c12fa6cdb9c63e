"""Coredump + symbol index -> Trace: every thread unwound, symbolized, with its variables.

Variables (each frame's arguments and locals) are most of the work and only needed when
someone reads the trace, so they can be deferred: `symbolicate(..., variables=False)`
gives everything else (threads, frames, registers, the fault analysis, assert details
included) and marks the trace VARIABLES_DEFERRED; `variables_read` later reads them from
the same coredump and index, frame for frame what the eager call would have read.
"""

from __future__ import annotations

from symbolicator.coredump import Coredump
from symbolicator.errors import SymbolicatorError
from symbolicator.faults import analyze_fault, describe_fault, describe_title
from symbolicator.faults.asserts import argument_numbers, frame_arguments
from symbolicator.heap import analyze_heap
from symbolicator.index import SymbolIndex
from symbolicator.interrupts import analyze_interrupts
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span
from symbolicator.mpu import ACCESSES, analyze_mpu, check_access
from symbolicator.rtos import ThreadInfo, discover_threads
from symbolicator.rtos.stack_usage import stack_usage
from symbolicator.symbolize import symbolize_with_scopes
from symbolicator.trace import (
    VARIABLES_DEFERRED,
    VARIABLES_READ,
    Frame,
    Thread,
    Trace,
    VariableInfo,
    plain,
)
from symbolicator.unwind.cortex_m import stacking_failure
from symbolicator.unwind.frame import UnwoundFrame
from symbolicator.unwind.unwinder import frame_cfa, unwind
from symbolicator.variables import FrameContext, Variable, VariableReader


def coredump_memory(coredump: Coredump, index: SymbolIndex) -> Memory:
    captured = [Span(r.address, r.data, SOURCE_COREDUMP) for r in coredump.regions]
    return Memory(captured, index.read_only)


def symbolicate(coredump: Coredump, index: SymbolIndex, *, variables: bool = True) -> Trace:
    """The coredump's Trace; with `variables=False` its frames' arguments and locals are
    left for `variables_read` (the trace says VARIABLES_DEFERRED)."""
    memory = coredump_memory(coredump, index)
    kernel = discover_threads(memory, index, coredump)
    reader = VariableReader(index, memory) if index.dwarf else None
    places: dict[int, tuple[FrameContext, int]] = {}
    handling = _Variables(reader, variables, places)
    threads = [
        _thread(*inputs, memory, index, handling, crashed=n == 0)
        for n, inputs in enumerate(_thread_inputs(coredump, kernel, memory))
    ]
    trace = Trace(
        threads=threads,
        build_id=coredump.build_id.hex() if coredump.build_id else None,
        trace_reason=coredump.trace_reason,
        warnings=list(coredump.warnings) + (kernel.problems if kernel else []),
        kernel=kernel.name if kernel else None,
        variables=VARIABLES_READ if variables or reader is None else VARIABLES_DEFERRED,
    )
    arguments = frame_arguments if variables else _arguments_on_demand(reader, places)
    analysis = analyze_fault(coredump, trace, index, memory=memory, arguments=arguments)
    trace.fault = analysis.to_dict()
    trace.title = describe_title(analysis)
    trace.summary = describe_fault(analysis)
    trace.mpu = _mpu(coredump, memory, analysis)
    interrupts = analyze_interrupts(memory, index, trace.fault["context"])
    trace.interrupts = interrupts.to_dict() if interrupts else None
    heap = analyze_heap(memory, index)
    trace.heap = heap.to_dict() if heap else None
    return trace


def variables_read(coredump: Coredump, index: SymbolIndex, trace: dict) -> dict:
    """`trace` (a deferred Trace.to_dict() of this coredump and index) with every frame's
    arguments and locals read, as `symbolicate` reads them eagerly. Raises
    SymbolicatorError when the frames unwound now are not the stored ones (a trace made
    by another version of the unwinder): their variables would belong to other frames."""
    if trace.get("variables", VARIABLES_READ) != VARIABLES_DEFERRED:
        return trace
    memory = coredump_memory(coredump, index)
    reader = VariableReader(index, memory)
    unwound = thread_contexts(coredump, index, memory)
    stored = trace.get("threads", [])
    if [len(frames) for frames in unwound] != [len(t.get("frames", [])) for t in stored]:
        raise SymbolicatorError("the coredump unwinds to other frames than the stored trace's")
    threads = [
        {**thread, "frames": [_frame_with_variables(saved, *now, reader) for saved, now in
                              zip(thread["frames"], frames, strict=True)]}
        for thread, frames in zip(stored, unwound, strict=True)
    ]  # fmt: skip
    return {**trace, "threads": threads, "variables": VARIABLES_READ}


def _frame_with_variables(saved: dict, frame: Frame, context, scope, reader) -> dict:
    if saved.get("pc") != frame.pc or saved.get("function") != frame.function:
        raise SymbolicatorError(
            f"the stored frame at 0x{saved.get('pc') or 0:08x} is not the one unwound now"
        )
    if context is None or scope is None:
        return saved
    _attach_variables(frame, reader, context, scope)
    return {**saved, "arguments": plain(frame.arguments), "locals": plain(frame.locals)}


class _Variables:
    """What `_thread` does with a symbolized frame's variables: read them now (eager),
    or remember where they are (deferred) for the fault analysis's assert arguments."""

    def __init__(self, reader: VariableReader | None, eager: bool, places: dict):
        self.reader = reader
        self.eager = eager
        self.places = places

    def frame(self, frame: Frame, context: FrameContext | None, scope: int | None) -> None:
        if self.reader is None or context is None or scope is None:
            return
        if self.eager:
            _attach_variables(frame, self.reader, context, scope)
        else:
            self.places[id(frame)] = (context, scope)


def _arguments_on_demand(reader: VariableReader | None, places: dict):
    """An ArgumentReader for a deferred trace: the frame the fault analysis asks about
    (an assert handler's) has its arguments read now, the same way `_attach_variables`
    reads them."""

    def arguments(frame: Frame) -> dict[str, int] | None:
        place = places.get(id(frame))
        if reader is None or place is None:
            return None
        context, scope = place
        here = FrameContext(**{**context.__dict__, "scope": scope})
        return argument_numbers(_info(v) for v in reader.arguments(here))

    return arguments


def _thread_inputs(coredump: Coredump, kernel, memory: Memory) -> list[tuple]:
    """(ThreadInfo, registers, stacking failure, context hint) per thread, in Trace
    order: the crashed thread with the core's registers first, then the others."""
    infos = kernel.threads if kernel else []
    current = next((t for t in infos if t.is_current), None)
    crashed = current or ThreadInfo("main", "running", True)
    inputs = [(crashed, coredump.registers, stacking_failure(memory), coredump.context_hint)]
    for info in infos:
        if info is not current:
            registers = _with_core_registers(info.registers, coredump.registers)
            inputs.append((info, registers, None, None))
    return inputs


# The MemManage causes whose address the MPU refused (MMFAR, or the PC for a fetch).
MPU_CAUSES = {"DACCVIOL", "IACCVIOL"}


def _mpu(coredump: Coredump, memory: Memory, analysis) -> dict | None:
    """The region table, and the region that refused the faulting access."""
    if "mpu" not in coredump.extra:
        return None
    mpu = analyze_mpu(coredump.extra["mpu"], memory)
    address = analysis.address
    if address is not None and analysis.cause in MPU_CAUSES:
        access = analysis.access.value if analysis.access.value in ACCESSES else "read"
        handler = analysis.context.exception if analysis.context.mode == "handler" else None
        mpu.fault = check_access(mpu, address.address, access, handler=handler)
    return mpu.to_dict()


def thread_contexts(coredump: Coredump, index: SymbolIndex, memory: Memory) -> list[list[tuple]]:
    """Per thread (in Trace order), per symbolized frame: (Frame, FrameContext | None,
    DIE offset of the scope whose variables the frame shows | None). No variables are
    read: this serves requests that need one frame's context, such as expanding a value,
    and `variables_read`."""
    kernel = discover_threads(memory, index, coredump)
    out = []
    for _, registers, unstacked, hint in _thread_inputs(coredump, kernel, memory):
        frames = []
        if registers is not None:
            result = unwind(registers, memory, index, unstacked=unstacked, context_hint=hint)
            frames = _symbolized(result, memory, index)
        out.append(frames)
    return out


def _symbolized(result, memory, index) -> list[tuple]:
    """(Frame, FrameContext | None, scope DIE offset | None) per symbolized frame."""
    contexts = frame_contexts(result.frames, memory, index)
    return [
        (frame, context, scope)
        for unwound, context in zip(result.frames, contexts, strict=True)
        for frame, scope in symbolize_with_scopes(unwound, index)
    ]


def _with_core_registers(saved: dict | None, core: dict) -> dict | None:
    """A switched-out thread saved its own registers; MSP is the core's, as dumped."""
    if saved is None or "msp" not in core:
        return saved
    return {**saved, "msp": core["msp"]}


def _thread(info: ThreadInfo, registers, unstacked, context_hint, memory, index,
            variables: _Variables, *, crashed: bool) -> Thread:  # fmt: skip
    thread = Thread(
        name=info.name,
        crashed=crashed,
        state=info.state,
        stack=stack_usage(info.stack, _thread_sp(registers, crashed)),
        priority=info.priority,
        notes=list(info.notes),
        problems=list(info.problems),
    )
    if registers is None:
        thread.stop_reason = "; ".join(info.problems) or "no saved context"
        return thread
    result = unwind(registers, memory, index, unstacked=unstacked, context_hint=context_hint)
    for frame, context, scope in _symbolized(result, memory, index):
        variables.frame(frame, context, scope)
        thread.frames.append(frame)
    thread.stop_reason = result.stop.reason
    if unstacked:
        thread.stop_reason = (
            f"{unstacked}, so the faulting pc and lr are lost; the frames after the first "
            f"were found by scanning the stack and may include stale return addresses. "
            f"Unwinding ended: {result.stop.reason}"
        )
    return thread


def _thread_sp(registers: dict | None, crashed: bool) -> int | None:
    """The thread's own SP at the crash. Kernel threads run on PSP (the crashed one too,
    even when an interrupt or the fault handler ran on MSP above it); a switched-out
    thread's is the SP its saved context restores."""
    if registers is None:
        return None
    if crashed and "psp" in registers:
        return registers["psp"]
    return registers.get("sp")


def frame_contexts(frames: list[UnwoundFrame], memory, index) -> list[FrameContext | None]:
    """Per unwound frame, the context its variables are evaluated in (None where there
    is no function), each linked to its caller for DW_OP_entry_value."""
    contexts: list[FrameContext | None] = [None] * len(frames)
    for n in range(len(frames) - 1, -1, -1):
        frame = frames[n]
        function = None if frame.exception else index.function_at(frame.lookup_pc)
        scope = index.subprogram_die(function) if function else None
        if scope is None:
            continue
        caller = contexts[n + 1] if n + 1 < len(frames) else None
        contexts[n] = FrameContext(
            scope=scope[1],
            pc=frame.lookup_pc,
            registers=frame.registers,
            cfa=frame.cfa if frame.cfa is not None else frame_cfa(frame, memory, index),
            function_entry=function.start,
            function_scope=scope[1],
            caller=caller,
            frame_pc=frame.pc,
        )
    return contexts


def _attach_variables(
    frame: Frame, reader: VariableReader, context: FrameContext, scope: int
) -> None:
    here = FrameContext(**{**context.__dict__, "scope": scope})
    frame.arguments = [_info(v) for v in reader.arguments(here)]
    frame.locals = [_info(v) for v in reader.locals(here)]


def _info(variable: Variable) -> VariableInfo:
    return VariableInfo(
        name=variable.name,
        type=variable.type,
        text=variable.text,
        address=variable.address,
        size=variable.size,
        scalar=variable.scalar,
        entry=variable.entry,
        entry_matches=variable.entry_matches,
    )

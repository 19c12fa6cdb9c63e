"""Coredump + symbol index -> Trace: every thread unwound, symbolized, with its variables."""

from __future__ import annotations

from symbolicator.coredump import Coredump
from symbolicator.faults import analyze_fault, describe_fault, describe_title
from symbolicator.heap import analyze_heap
from symbolicator.index import SymbolIndex
from symbolicator.interrupts import analyze_interrupts
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span
from symbolicator.mpu import ACCESSES, analyze_mpu, check_access
from symbolicator.rtos import ThreadInfo, discover_threads
from symbolicator.rtos.stack_usage import stack_usage
from symbolicator.symbolize import symbolize_with_scopes
from symbolicator.trace import Frame, Thread, Trace, VariableInfo
from symbolicator.unwind.cortex_m import stacking_failure
from symbolicator.unwind.frame import UnwoundFrame
from symbolicator.unwind.unwinder import frame_cfa, unwind
from symbolicator.variables import FrameContext, Variable, VariableReader


def coredump_memory(coredump: Coredump, index: SymbolIndex) -> Memory:
    captured = [Span(r.address, r.data, SOURCE_COREDUMP) for r in coredump.regions]
    return Memory(captured, index.read_only)


def symbolicate(coredump: Coredump, index: SymbolIndex, *, variables: bool = True) -> Trace:
    memory = coredump_memory(coredump, index)
    kernel = discover_threads(memory, index, coredump)
    infos = kernel.threads if kernel else []
    current = next((t for t in infos if t.is_current), None)
    reader = VariableReader(index, memory) if variables and index.dwarf else None
    crashed = current or ThreadInfo("main", "running", True)
    unstacked = stacking_failure(memory)
    threads = [
        _thread(
            crashed,
            coredump.registers,
            memory,
            index,
            reader,
            crashed=True,
            unstacked=unstacked,
            context_hint=coredump.context_hint,
        )
    ]
    for info in infos:
        if info is not current:
            registers = _with_core_registers(info.registers, coredump.registers)
            threads.append(_thread(info, registers, memory, index, reader, crashed=False))
    trace = Trace(
        threads=threads,
        build_id=coredump.build_id.hex() if coredump.build_id else None,
        trace_reason=coredump.trace_reason,
        warnings=list(coredump.warnings) + (kernel.problems if kernel else []),
        kernel=kernel.name if kernel else None,
    )
    analysis = analyze_fault(coredump, trace, index, memory=memory)
    trace.fault = analysis.to_dict()
    trace.title = describe_title(analysis)
    trace.summary = describe_fault(analysis)
    trace.mpu = _mpu(coredump, memory, analysis)
    interrupts = analyze_interrupts(memory, index, trace.fault["context"])
    trace.interrupts = interrupts.to_dict() if interrupts else None
    heap = analyze_heap(memory, index)
    trace.heap = heap.to_dict() if heap else None
    return trace


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
    read: this serves requests that need one frame's context, such as expanding a value."""
    kernel = discover_threads(memory, index, coredump)
    infos = kernel.threads if kernel else []
    current = next((t for t in infos if t.is_current), None)
    contexts = [(coredump.registers, stacking_failure(memory))]
    contexts += [
        (_with_core_registers(info.registers, coredump.registers), None)
        for info in infos
        if info is not current
    ]
    out = []
    for registers, unstacked in contexts:
        frames = []
        if registers is not None:
            result = unwind(registers, memory, index, unstacked=unstacked)
            for unwound, context in zip(
                result.frames, frame_contexts(result.frames, memory, index), strict=True
            ):
                frames += [
                    (frame, context, scope)
                    for frame, scope in symbolize_with_scopes(unwound, index)
                ]
        out.append(frames)
    return out


def _with_core_registers(saved: dict | None, core: dict) -> dict | None:
    """A switched-out thread saved its own registers; MSP is the core's, as dumped."""
    if saved is None or "msp" not in core:
        return saved
    return {**saved, "msp": core["msp"]}


def _thread(
    info: ThreadInfo,
    registers,
    memory,
    index,
    reader,
    *,
    crashed: bool,
    unstacked=None,
    context_hint=None,
) -> Thread:
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
    contexts = frame_contexts(result.frames, memory, index)
    for unwound, context in zip(result.frames, contexts, strict=True):
        for frame, scope in symbolize_with_scopes(unwound, index):
            if reader is not None and context is not None and scope is not None:
                _attach_variables(frame, reader, context, scope)
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

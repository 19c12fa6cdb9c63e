"""Coredump (+ Trace, + symbol index) -> FaultAnalysis: what went wrong, where, in whom.

Pure data in, pure data out; the sentence is made by describe.py. The steps:

1. read the fault status registers the device captured and decode every bit;
2. name the active exception (exceptions.active_exception) and its cause bits;
3. read the reason codes the firmware recorded (Memfault, Zephyr); when no
   register was captured, take the cause bit from them;
4. set the flags the interpretation rules call for (cortex-m-unwinding.md 6.3)
   and name the interrupted context from the stacked xPSR and stack pointers;
5. place the fault in the crashed thread's frames, find the fault address and
   whether the access was a read or a write;
6. detect a failed assert (asserts.py) and a stack overflow (overflow.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.coredump.model import Coredump
from symbolicator.faults import exceptions as exc
from symbolicator.faults.access import access_of
from symbolicator.faults.asserts import ArgumentReader, detect_assertion, frame_arguments
from symbolicator.faults.bits import BitKind, decode_fault_registers
from symbolicator.faults.fault_path import detect_fault_path
from symbolicator.faults.model import (
    AnalysisStatus,
    Context,
    FaultAddress,
    FaultAnalysis,
    FaultFlag,
    FaultKind,
    Place,
    StackOverflow,
)
from symbolicator.faults.overflow import detect_stack_overflow
from symbolicator.faults.overflow import reported as _reported_overflow
from symbolicator.faults.reasons import (
    LOCKUP,
    WATCHDOGS,
    ZephyrReason,
    coredump_zephyr_reason,
    coredump_zephyr_version,
    trace_reason_info,
    zephyr_reason_info,
)
from symbolicator.faults.registers import FaultRegisters, read_fault_registers
from symbolicator.index import SymbolIndex
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span
from symbolicator.trace import Frame, FrameKind, Thread, Trace

# The access went wrong first; a stacking or lazy-FP error is raised while entering
# the handler for it (a derived exception, ARMv7-M ARM B1.5.6 "Exception entry
# behavior"), so it explains less. FORCED only says that the real cause was escalated.
CAUSE_PRIORITY = (
    *("IACCVIOL", "DACCVIOL", "IBUSERR", "PRECISERR", "IMPRECISERR"),
    *("UNDEFINSTR", "INVSTATE", "INVPC", "NOCP", "UNALIGNED", "DIVBYZERO", "STKOF"),
    *("INVEP", "INVIS", "INVER", "AUVIOL", "INVTRAN", "LSERR"),
    *("MSTKERR", "STKERR", "MUNSTKERR", "UNSTKERR", "MLSPERR", "LSPERR"),
    *("VECTTBL", "DEBUGEVT", "FORCED"),
)
_CAUSE_FLAGS = {
    "FORCED": FaultFlag.ESCALATED,
    "PRECISERR": FaultFlag.PRECISE,
    "IMPRECISERR": FaultFlag.PC_APPROXIMATE,
    "MSTKERR": FaultFlag.FRAME_UNTRUSTED,
    "STKERR": FaultFlag.FRAME_UNTRUSTED,
    "MLSPERR": FaultFlag.FP_STATE_UNTRUSTED,
    "LSPERR": FaultFlag.FP_STATE_UNTRUSTED,
    "VECTTBL": FaultFlag.VECTOR_TABLE,
    "DEBUGEVT": FaultFlag.DEBUG_EVENT,
}
# Where each cause puts the fault address (B3.2.17 MMFAR, B3.2.18 BFAR, SAU_SFAR).
_ADDRESS_REGISTERS = {"MMFSR": "MMFAR", "BFSR": "BFAR", "SFSR": "SFAR"}
# Causes whose faulting address is the stacked PC itself: a fetch from, or a
# branch to, a bad address. The code that branched there is the caller.
BAD_TARGET_CAUSES = {"IACCVIOL", "IBUSERR", "INVSTATE", "INVEP"}
NEAR_NULL = 0x1000  # one page, the window Linux also reports as a NULL dereference


@dataclass
class _Inputs:
    coredump: Coredump
    trace: Trace | None
    index: SymbolIndex | None
    memory: Memory
    arguments: ArgumentReader | None
    fault_registers: FaultRegisters

    @property
    def registers(self) -> dict[str, int]:
        return self.coredump.registers

    @property
    def thread(self) -> Thread | None:
        return self.trace.crashed_thread if self.trace is not None else None

    @property
    def frames(self) -> list[Frame]:
        thread = self.thread
        return thread.frames if thread is not None else []


def analyze_fault(
    coredump: Coredump,
    trace: Trace | None = None,
    index: SymbolIndex | None = None,
    *,
    memory: Memory | None = None,
    arguments: ArgumentReader | None = frame_arguments,
) -> FaultAnalysis:
    """Analyze one Coredump; `trace` (its symbolicate() result) and `index` (its
    SymbolIndex) add places, symbols, threads and assert details when given.
    `arguments` reads an assert handler's arguments (None: do not use them)."""
    memory = memory if memory is not None else coredump_memory(coredump, index)
    inputs = _Inputs(coredump, trace, index, memory, arguments, read_fault_registers(memory))
    analysis = _decode(inputs)
    _interpret(analysis, inputs)
    _locate(analysis, inputs)
    _detect(analysis, inputs)
    analysis.kind = _kind(analysis)
    return analysis


def coredump_memory(coredump: Coredump, index: SymbolIndex | None = None) -> Memory:
    """What symbolicate() reads through: the captured regions, then the ELF's code."""
    captured = [Span(r.address, r.data, SOURCE_COREDUMP) for r in coredump.regions]
    return Memory(captured, index.read_only if index is not None else [])


def _decode(inputs: _Inputs) -> FaultAnalysis:
    """Steps 1 and 2: bits, active exception, causes, status."""
    registers = inputs.fault_registers
    bits = decode_fault_registers(registers)
    number, source = exc.active_exception(registers, inputs.coredump.trace_reason)
    causes = _causes(bits, number)
    status, reason = _status(registers, bits)
    analysis = FaultAnalysis(
        status=status,
        reason=reason,
        kind=FaultKind.UNKNOWN,
        exception=exc.exception_name(number) if number is not None else None,
        exception_number=number,
        exception_source=source,
        cause=min(causes, key=CAUSE_PRIORITY.index) if causes else None,
        causes=causes,
        cause_source="fault registers" if causes else "",
        registers=registers.to_dict(),
        bits=bits,
    )
    if "FORCED" in causes:
        groups = exc.cause_groups(registers)
        analysis.escalated_from = exc.exception_name(groups[0]) if len(groups) == 1 else None
    return analysis


def _causes(bits, number: int | None) -> list[str]:
    """Cause bits of the active exception's status register; for HardFault, HFSR's, plus
    the CFSR's when FORCED; when the exception is unknown, every cause bit."""
    cause_bits = [bit for bit in bits if bit.kind == BitKind.CAUSE]
    group = exc.CAUSE_GROUPS.get(number)
    if group is not None:
        own = [bit.name for bit in cause_bits if _group_of(bit) == group]
        if own:
            return own
    if number == exc.HARD_FAULT:
        hfsr = [bit.name for bit in cause_bits if bit.register == "HFSR"]
        if hfsr and "FORCED" not in hfsr:
            return hfsr
    return [bit.name for bit in cause_bits]


def _group_of(bit) -> str:
    return bit.group or bit.register


def _status(registers: FaultRegisters, bits) -> tuple[AnalysisStatus, str]:
    if not registers.captured:
        return AnalysisStatus.NOT_CAPTURED, "the coredump holds no fault status registers"
    if not any(bit.kind == BitKind.CAUSE for bit in bits):
        return AnalysisStatus.NO_FAULT_BITS, "fault status registers are clear"
    return AnalysisStatus.DECODED, "fault status registers decoded"


def _interpret(analysis: FaultAnalysis, inputs: _Inputs) -> None:
    """Steps 3 and 4: firmware-reported reasons, flags, interrupted context."""
    zephyr = _reasons(analysis, inputs.coredump)
    if not analysis.causes:
        _cause_from_reasons(analysis, zephyr)
    every_cause = {bit.name for bit in analysis.bits if bit.kind == BitKind.CAUSE}
    every_cause.update(analysis.causes)
    analysis.flags = [flag for name, flag in _CAUSE_FLAGS.items() if name in every_cause]
    analysis.flags = list(dict.fromkeys(analysis.flags))
    trusted = FaultFlag.FRAME_UNTRUSTED not in analysis.flags
    analysis.context = _context(inputs.registers, trusted, inputs.thread)
    if _locked_up(analysis, inputs):
        analysis.flags.append(FaultFlag.LOCKUP)
    if "IMPRECISERR" in every_cause:
        analysis.notes.append(
            "imprecise bus error: on Cortex-M3/M4, ACTLR.DISDEFWBUF = 1 makes it precise"
        )


def _cause_from_reasons(analysis: FaultAnalysis, zephyr: ZephyrReason | None) -> None:
    """Without fault registers (a Zephyr dump, an ARMv6-M part), the reason code the
    firmware's own fault handler derived from them still names the bit."""
    candidates = []
    if zephyr is not None:
        candidates.append((zephyr.fault_bit, "zephyr reason"))
    if analysis.trace_reason is not None:
        candidates.append((trace_reason_info(analysis.trace_reason).fault_bit, "trace reason"))
    for bit, source in candidates:
        if bit is not None and not bit.endswith("VALID"):
            analysis.cause, analysis.causes, analysis.cause_source = bit, [bit], source
            return


def _context(registers: dict[str, int], trusted: bool, thread: Thread | None) -> Context:
    sp, msp, psp = (registers.get(name) for name in ("sp", "msp", "psp"))
    stack = None
    if sp is not None and sp == psp and sp != msp:
        stack = "PSP"
    elif sp is not None and sp == msp and sp != psp:
        stack = "MSP"
    context = Context("unknown", stack=stack, thread=thread.name if thread else None)
    if trusted and "xpsr" in registers:
        ipsr = registers["xpsr"] & exc.IPSR_MASK
        context.mode = "handler" if ipsr else "thread"
        context.exception_number = ipsr
        context.exception = exc.exception_name(ipsr)
    elif stack == "PSP":  # only Thread mode can run on PSP (B1.4.1)
        context.mode = "thread"
    if context.mode == "handler" and thread is not None:
        context.handler = _interrupted_handler(thread.frames)
    return context


def _interrupted_handler(frames: list[Frame]) -> str | None:
    """The outermost function before the first exception frame: the handler's entry."""
    handler = None
    for frame in frames:
        if frame.kind == FrameKind.EXCEPTION:
            return handler
        if frame.kind != FrameKind.INLINE and frame.function:
            handler = frame.function
    return None


def _locked_up(analysis: FaultAnalysis, inputs: _Inputs) -> bool:
    """A fault at HardFault or NMI priority locks the core up (B1.5.15), which shows as
    a lockup PC or a 0x9401 reason when the dump was taken afterwards."""
    if inputs.registers.get("pc") in exc.LOCKUP_PCS or inputs.coredump.trace_reason == LOCKUP:
        return True
    interrupted = analysis.context.exception_number
    return interrupted in (exc.NMI, exc.HARD_FAULT) and bool(analysis.causes)


def _reasons(analysis: FaultAnalysis, coredump) -> ZephyrReason | None:
    if coredump.trace_reason is not None:
        analysis.trace_reason = coredump.trace_reason
        analysis.trace_reason_name = trace_reason_info(coredump.trace_reason).name
    code = coredump_zephyr_reason(coredump.extra)
    if code is None:
        return None
    zephyr = zephyr_reason_info(code, coredump_zephyr_version(coredump.extra))
    analysis.zephyr_reason, analysis.zephyr_reason_name = zephyr.code, zephyr.name
    return zephyr


def _locate(analysis: FaultAnalysis, inputs: _Inputs) -> None:
    """Step 5: place, caller, fault address and access direction."""
    trusted = FaultFlag.FRAME_UNTRUSTED not in analysis.flags
    pc = inputs.registers.get("pc")
    if trusted and pc is not None:
        analysis.place = _place(inputs, 0)
        if analysis.cause in BAD_TARGET_CAUSES:
            analysis.caller = _place(inputs, _next_frame(inputs.frames, 0))
    elif not trusted:
        analysis.caller = _place(inputs, _first_known_frame(inputs.frames))
    analysis.address = _fault_address(analysis, inputs, pc if trusted else None)
    analysis.access, analysis.access_hint = access_of(analysis.cause, inputs.memory, pc, trusted)


def _place(inputs: _Inputs, number: int | None) -> Place | None:
    """Frame `number` of the crashed thread; without a trace, frame 0 from the index."""
    frames = inputs.frames
    if frames:
        if number is None or number >= len(frames):
            return None
        frame = frames[number]
        location = frame.location
        return Place(
            frame.pc,
            frame.function,
            location.file if location else None,
            location.line if location else None,
            number,
        )
    return _place_from_index(inputs) if number == 0 else None


def _place_from_index(inputs: _Inputs) -> Place:
    pc = inputs.registers["pc"] & ~1
    place = Place(pc)
    if inputs.index is not None:
        function = inputs.index.function_at(pc)
        line = inputs.index.line_at(pc)
        place.function = function.name if function else None
        place.file, place.line = line if line else (None, None)
    return place


def _next_frame(frames: list[Frame], number: int) -> int | None:
    """The frame that called frame `number`: the next one with code of its own."""
    for later in range(number + 1, len(frames)):
        frame = frames[later]
        if frame.kind != FrameKind.EXCEPTION and frame.pc != frames[number].pc:
            return later
    return None


def _first_known_frame(frames: list[Frame]) -> int | None:
    """After a failed stacking frame 0 is garbage; the unwinder may still have found
    the frames below it on the stack (labelled by their hints)."""
    return next((n for n, f in enumerate(frames) if n and f.function), None)


def _fault_address(analysis: FaultAnalysis, inputs: _Inputs, pc: int | None):
    group = next((_group_of(b) for b in analysis.bits if b.name == analysis.cause), None)
    register = _ADDRESS_REGISTERS.get(group)
    address = inputs.fault_registers.address(register) if register else None
    if address is None and analysis.cause in BAD_TARGET_CAUSES and pc is not None:
        address, register = pc & ~1, "PC"
    if address is None:
        return None
    found = FaultAddress(address, register)
    found.symbol, found.offset = _symbol_holding(inputs.index, address)
    # Code often starts near 0: a branch there is only a NULL call if no function is.
    found.near_null = address < NEAR_NULL and (register != "PC" or found.symbol is None)
    return found


def _symbol_holding(index, address: int) -> tuple[str | None, int | None]:
    """The ELF symbol whose extent holds `address` (not merely the one before it)."""
    found = index.symbol_at(address) if index is not None else None
    if found is None:
        return None, None
    name, offset = found
    symbol = index.symbol_named(name)
    if symbol is None or offset >= max(symbol.size, 1):
        return None, None
    return name, offset


def _detect(analysis: FaultAnalysis, inputs: _Inputs) -> None:
    """Step 6: a failed assert, a stack overflow."""
    assertion, at = detect_assertion(
        inputs.coredump.trace_reason, inputs.frames, inputs.memory, inputs.index, inputs.arguments
    )
    if assertion is not None:
        analysis.assertion = assertion
        analysis.place = _place(inputs, at)
        analysis.caller = None
    registers = inputs.registers
    analysis.fault_path = detect_fault_path(
        analysis.context, inputs.frames, inputs.coredump.trace_reason
    )
    if analysis.fault_path is not None:
        analysis.stack_overflow = _first_fault_overflow(analysis, inputs)
        return
    analysis.stack_overflow = detect_stack_overflow(
        analysis.causes,
        registers.get("sp"),
        analysis.context.stack,
        analysis.address,
        inputs.trace.threads if inputs.trace is not None else [],
        (inputs.coredump.trace_reason, analysis.zephyr_reason),
        inputs.frames,
    )


def _first_fault_overflow(analysis: FaultAnalysis, inputs: _Inputs) -> StackOverflow | None:
    """After a fault in the fault path the registers, SP and fault bits are the second
    fault's: only the recorded reasons can still say the first was a stack overflow, and
    whose stack it was is the thread that ran then."""
    evidence = _reported_overflow(inputs.coredump.trace_reason, analysis.zephyr_reason)
    if not evidence:
        return None
    thread = inputs.thread
    bounds = (thread.stack or {}) if thread is not None else {}
    return StackOverflow(
        thread=thread.name if thread is not None else None,
        stack=None,
        sp=bounds.get("sp"),
        stack_base=bounds.get("base"),
        stack_size=bounds.get("size"),
        evidence=evidence,
    )


def _kind(analysis: FaultAnalysis) -> FaultKind:
    reason = analysis.trace_reason
    if analysis.assertion is not None:
        return FaultKind.ASSERT
    if analysis.stack_overflow is not None:
        return FaultKind.STACK_OVERFLOW
    if analysis.exception_number in exc.FAULT_EXCEPTIONS or analysis.causes:
        return FaultKind.FAULT
    if reason in WATCHDOGS:
        return FaultKind.WATCHDOG
    if reason is not None and trace_reason_info(reason).category.endswith("unexpected"):
        return FaultKind.ERROR
    if analysis.zephyr_reason is not None:  # a kernel oops or panic, a spurious IRQ
        return FaultKind.ERROR
    return FaultKind.UNKNOWN

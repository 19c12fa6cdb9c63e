"""The unwind loop: from one register context to a list of frames and a stop reason.

Per frame, in GDB's order (arm_gdbarch_init): an EXC_RETURN pc means an
exception frame; then DWARF CFI; without CFI, prologue analysis; for the
innermost frame of a leaf, LR; and as a last resort a bounded stack scan,
whose frames are labelled as guesses. Memory is read only through the
Memory interface, so an uncaptured stack ends the unwind with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.cfi import CfiError, row_for
from symbolicator.dwarf_expr import ExpressionError
from symbolicator.errors import UnreadableMemory
from symbolicator.unwind import cortex_m, heuristics
from symbolicator.unwind.frame import How, Stop, UnwoundFrame
from symbolicator.unwind.registers import DwarfView, RegisterValues
from symbolicator.unwind.steps import (
    MissingRegister,
    NoStep,
    Outermost,
    caller_frame,
    cfi_step,
    exception_step,
)
from symbolicator.unwind.tailcalls import tail_call_chain

MAX_FRAMES = 512


@dataclass
class Unwind:
    frames: list[UnwoundFrame]
    stop: Stop


def unwind(
    registers: dict[str, int],
    memory,
    index,
    *,
    max_frames: int = MAX_FRAMES,
    unstacked: str | None = None,
    context_hint: str | None = None,
) -> Unwind:
    """Unwind from a register context. `unstacked` says why the registers the core
    stacks on exception entry are garbage (the push itself faulted): they are then
    dropped and the stack is scanned from the SP the core left. `context_hint` says
    how the parser corrected the context, for the first frame's hint."""
    known = dict(registers)
    hint = f"{How.CONTEXT.value}; {context_hint}" if context_hint else How.CONTEXT.value
    if unstacked:
        for name in cortex_m.STACKED_BY_HARDWARE:
            known.pop(name, None)
        hint = f"registers not stacked ({unstacked.split(':')[0]}): pc, lr, r0-r3, r12 unknown"
    frame = UnwoundFrame(
        pc=registers["pc"] & ~1,
        registers=RegisterValues({**known, "pc": registers["pc"] & ~1}),
        hint=hint,
        how=How.CONTEXT,
        interrupted=True,
    )
    frames = [frame]
    while True:
        stop = _stop_at(frame, index)
        if stop is None and len(frames) >= max_frames:
            stop = Stop(f"stopped after {max_frames} frames", clean=False)
        if stop is not None:
            return Unwind(frames, stop)
        try:
            caller = step(frame, memory, index)
        except Outermost:
            return Unwind(frames, Stop("outermost frame: the return address is undefined", True))
        except NoStep as error:
            frame.unreadable = "not captured" in str(error)
            return Unwind(frames, Stop(str(error), clean=False))
        if problem := _corrupt(frame, caller):
            return Unwind(frames, Stop(problem, clean=False))
        frames.extend(_tail_call_frames(frame, caller, index))
        frames.append(caller)
        frame = caller


def frame_cfa(frame: UnwoundFrame, memory, index) -> int | None:
    """The CFA of a frame unwinding did not step out of (the last one): from its CFI row."""
    if frame.exception:
        return None
    fde = index.fde_for(frame.lookup_pc)
    if fde is None:
        return None
    try:
        row = row_for(fde, frame.lookup_pc)
        return row.cfa.compute(DwarfView(frame.registers), memory) if row.cfa else None
    except (CfiError, ExpressionError, KeyError, UnreadableMemory):
        return None


def step(frame: UnwoundFrame, memory, index) -> UnwoundFrame:
    if frame.exception:
        return exception_step(frame, memory)
    fde = index.fde_for(frame.lookup_pc)
    if fde is not None:
        try:
            return cfi_step(frame, fde, memory)
        except MissingRegister as missing:
            return _without_register(frame, missing, memory, index)
    function = index.function_at(frame.lookup_pc)
    if function is not None:
        return _prologue_step(frame, function, memory)
    if not frame.interrupted:
        # GDB knows no frame for a return address outside every function
        # (thumb_scan_prologue: "we're in the boondocks") and stops after it. It is a
        # corrupt stack or a thread's sentinel; scanning on would wander into other stacks.
        raise NoStep(f"the return address 0x{frame.pc:08x} is in no known function")
    if "lr" in frame.registers:
        return _lr_only(frame)
    return _scan_step(frame, memory, index)


def _without_register(frame: UnwoundFrame, missing: MissingRegister, memory, index):
    """The CFI needs a register the dump does not hold (r7 as the frame pointer at -O0
    when a Zephyr dump has no r4-r11). The heuristics that need no such register take
    over, each frame labelled with how it was found (zephyr-coredumps-in-practice.md,
    "Registers"):

    1. prologue analysis, which finds the CFA from SP and what the prologue pushed,
       and so also recovers the saved r7 for the frames further out;
    2. the bounded scan for a return address after a call to this frame's function;
    3. otherwise the unwind stops, saying which register it lacked.

    A frame found by scanning goes on scanning: its SP is where the return address
    was found, which prologue analysis cannot check."""
    attempts = [] if frame.how == How.STACK_SCAN else [_prologue_heuristic]
    attempts.append(_scan_step)
    reasons = [str(missing)]
    for attempt in attempts:
        try:
            caller = attempt(frame, memory, index)
        except NoStep as error:
            reasons.append(str(error).removeprefix("no unwind information, and "))
            continue
        caller.hint = f"{caller.hint} ({missing.register}, which the CFI needs, is unknown)"
        return caller
    raise NoStep("; ".join(reasons))


def _prologue_heuristic(frame: UnwoundFrame, memory, index) -> UnwoundFrame:
    function = index.function_at(frame.lookup_pc)
    if function is None:
        raise NoStep("no function is known at this pc for prologue analysis")
    return _prologue_step(frame, function, memory)


def _tail_call_frames(frame: UnwoundFrame, caller: UnwoundFrame, index) -> list[UnwoundFrame]:
    """GDB looks for tail calls only between frames its DWARF unwinder connected."""
    if caller.how != How.CFI or caller.exception:
        return []
    callee = index.function_at(frame.lookup_pc)
    if callee is None:
        return []
    return [
        UnwoundFrame(
            pc=pc,
            registers=RegisterValues({**caller.registers, "pc": pc}),
            hint=How.TAIL_CALL.value,
            how=How.TAIL_CALL,
            tail_call=True,
        )
        for pc in tail_call_chain(index, caller.pc, callee.start)
    ]


def _stop_at(frame: UnwoundFrame, index) -> Stop | None:
    """GDB's reasons not to unwind past a frame (frame.c get_prev_frame)."""
    if frame.pc in cortex_m.LOCKUP_VALUES:
        # A lockup pc, or LR's reset value as a sentinel at the top of a stack.
        return Stop("the core was in lockup", clean=False)
    if frame.exception:
        return None
    if frame.pc == 0 and not frame.interrupted:
        return Stop("the return address is zero", clean=False)
    function = index.function_at(frame.lookup_pc)
    if function is None:
        return None
    if function.name == "main":
        return Stop("reached main", clean=True)
    if function.start <= index.entry < function.end:
        return Stop("reached the reset handler", clean=True)
    return None


def _corrupt(frame: UnwoundFrame, caller: UnwoundFrame) -> str | None:
    callee_sp, caller_sp = frame.registers.get("sp"), caller.registers.get("sp")
    if caller.pc == frame.pc and caller_sp == callee_sp and not caller.exception:
        return "previous frame identical to this frame (corrupt stack?)"
    stack_switch = frame.exception or caller.exception
    if (
        not stack_switch
        and callee_sp is not None
        and caller_sp is not None
        and caller_sp < callee_sp
    ):
        return "previous frame inner to this frame (corrupt stack?)"
    return None


def _prologue_step(frame: UnwoundFrame, function, memory) -> UnwoundFrame:
    """No CFI: replay the prologue to find where it saved LR and how far it moved SP."""
    sp = frame.registers.get("sp")
    if sp is None:
        raise NoStep("SP is not known in this frame")
    try:
        prologue = heuristics.analyze_prologue(memory, function.start, frame.pc)
    except UnreadableMemory as error:
        raise NoStep(f"the code of {function.name} cannot be read") from error
    if not prologue.saved_lr and not frame.interrupted:
        raise NoStep(f"{function.name} keeps its return address in LR, which is lost here")
    cfa = sp + prologue.stack_size
    registers = RegisterValues(frame.registers)
    recovered = set()
    try:
        for name, offset in prologue.saved.items():
            registers[name] = memory.read_u32(cfa + offset)
            recovered.add(name)
    except UnreadableMemory as error:
        raise NoStep(f"the stack at 0x{error.address:08x} was not captured") from error
    registers["sp"] = cfa
    frame.cfa = cfa
    how = How.PROLOGUE if prologue.saved_lr else How.LEAF
    return caller_frame(frame, registers, cfa, recovered, how)


def _lr_only(frame: UnwoundFrame) -> UnwoundFrame:
    """PC outside any known function (a wild jump): the caller is in LR, as GDB's stub unwinder."""
    registers = RegisterValues(frame.registers)
    frame.cfa = frame.registers["sp"]
    return caller_frame(frame, registers, frame.registers["sp"], set(), How.LR)


def _scan_step(frame: UnwoundFrame, memory, index) -> UnwoundFrame:
    """Look up the stack for a word that returns just after a call to this frame's
    function (a guess, labelled as one): the call's target must be the function the
    frame is in, which filters out stale return addresses left by earlier calls."""
    sp = frame.registers.get("sp")
    if sp is None:
        raise NoStep("no unwind information, and SP is not known")
    callee = index.function_at(frame.lookup_pc)
    for slot in range(sp, sp + 4 * heuristics.SCAN_WORDS, 4):
        try:
            word = memory.read_u32(slot)
        except UnreadableMemory:
            break
        if _returns_from(word, callee, memory, index):
            registers = RegisterValues(sp=slot + 4, lr=word)
            for banked in ("msp", "psp"):
                if banked in frame.registers:
                    registers[banked] = frame.registers[banked]
            frame.cfa = slot + 4
            return caller_frame(frame, registers, slot + 4, set(), How.STACK_SCAN)
    raise NoStep("no unwind information, and no return address found on the stack")


def _returns_from(word: int, callee, memory, index) -> bool:
    """Whether `word` is a Thumb return address just after a call to `callee` (any call
    when the callee is unknown, or the call is through a register)."""
    if not word & 1 or index.function_at((word & ~1) - 1) is None:
        return False
    target = heuristics.is_after_call(memory, word)
    if target is None:
        return False
    return callee is None or target == -1 or target & ~1 == callee.start

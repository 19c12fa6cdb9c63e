"""FaultAnalysis -> one plain sentence, in the style of Memfault's "Analysis" box.

    MemManage fault: data access violation writing 0x0000000C in record_word_store()
    at src/storage.c:26, thread main

Formatting only: every decision was made by analysis.py.
"""

from __future__ import annotations

from symbolicator.faults.model import Access, FaultAnalysis, FaultFlag, Place

TITLES = {
    "MemManage": "MemManage fault",
    "BusFault": "BusFault",
    "UsageFault": "UsageFault",
    "HardFault": "HardFault",
    "SecureFault": "SecureFault",
    "NMI": "NMI",
}

PHRASES = {
    "IACCVIOL": "instruction access violation",
    "DACCVIOL": "data access violation",
    "MUNSTKERR": "access violation unstacking on exception return",
    "MSTKERR": "access violation stacking the exception frame",
    "MLSPERR": "access violation during lazy FP state preservation",
    "IBUSERR": "instruction bus error",
    "PRECISERR": "precise data bus error",
    "IMPRECISERR": "imprecise data bus error (the PC is approximate)",
    "UNSTKERR": "bus error unstacking on exception return",
    "STKERR": "bus error stacking the exception frame",
    "LSPERR": "bus error during lazy FP state preservation",
    "UNDEFINSTR": "undefined instruction",
    "INVSTATE": "invalid state, a branch with the Thumb bit clear",
    "INVPC": "invalid EXC_RETURN on exception return",
    "NOCP": "FPU instruction with the FPU disabled",
    "STKOF": "stack limit exceeded",
    "UNALIGNED": "unaligned access",
    "DIVBYZERO": "divide by zero",
    "VECTTBL": "bus error reading the vector table",
    "FORCED": "escalated fault",
    "DEBUGEVT": "breakpoint with no debugger attached",
    "INVEP": "branch to a Secure address that is not an entry point",
    "INVIS": "invalid integrity signature on exception return",
    "INVER": "invalid exception return",
    "AUVIOL": "Non-secure access to Secure memory",
    "INVTRAN": "invalid transition from Secure to Non-secure",
    "LSERR": "lazy FP state error",
}

VERBS = {
    Access.READ: "reading",
    Access.WRITE: "writing",
    Access.EXECUTE: "executing",
    Access.UNKNOWN: "accessing",
    Access.NONE: "at",
}

REASON_TITLES = {
    "Nmi": "NMI",
    "HardwareWatchdog": "Hardware watchdog",
    "SoftwareWatchdog": "Software watchdog",
    "TaskWatchdog": "Task watchdog",
    "WatchdogDeprecated": "Watchdog",
    "KernelPanic": "Kernel panic",
    "OutOfMemory": "Out of memory",
    "BrownOutReset": "Brown-out reset",
    "ClockFailure": "Clock failure",
    "UnknownError": "Unknown error",
    "Lockup": "Lockup",
}

STACKING = ("MSTKERR", "STKERR", "STKOF")


def describe_title(analysis: FaultAnalysis) -> str:
    """A short name for the fault, for issue and trace titles: kind, cause and function
    ("UsageFault: divide by zero in calc_ratio"), never addresses."""
    if analysis.fault_path is not None:
        return _fault_path_title(analysis)
    function = _function_name(analysis.caller if analysis.cause == "INVSTATE" else analysis.place)
    where = f" in {function}" if function else ""
    if analysis.assertion is not None:
        return f"Assertion failed{where}"
    if analysis.stack_overflow is not None:
        thread = analysis.stack_overflow.thread
        return "Stack overflow" + (f" in thread {thread}" if thread else "") + where
    if analysis.cause is not None:
        return f"{_title(analysis)}: {PHRASES.get(analysis.cause, analysis.cause)}{where}"
    return _reported(analysis).split(" at ")[0]


def _function_name(place: Place | None) -> str | None:
    return place.function if place is not None else None


def describe_fault(analysis: FaultAnalysis) -> str:
    if analysis.fault_path is not None:
        return _fault_path(analysis)
    if analysis.assertion is not None:
        return _assertion(analysis)
    if analysis.stack_overflow is not None:
        return _overflow(analysis)
    if analysis.cause is not None:
        return _fault(analysis)
    return _reported(analysis)


def _fault(analysis: FaultAnalysis) -> str:
    # A bad branch lands in a function that did nothing wrong: say where it came from.
    branch = analysis.cause == "INVSTATE"
    preposition = "near" if FaultFlag.PC_APPROXIMATE in analysis.flags else "in"
    where = _place(analysis.place, "to" if branch else preposition)
    caller = _place(analysis.caller, "from" if branch else ", called from")
    return (
        f"{_title(analysis)}: {PHRASES.get(analysis.cause, analysis.cause)}"
        f"{_address(analysis)}{where}{caller if analysis.caller else ''}"
        f"{_context(analysis)}{_qualifiers(analysis)}"
    )


def _first_fault_name(analysis: FaultAnalysis) -> str:
    path = analysis.fault_path
    if analysis.stack_overflow is not None:
        return "Stack overflow"
    if path.first_reason_name is not None:
        return REASON_TITLES.get(path.first_reason_name, path.first_reason_name)
    return "A fault"


def _fault_path_title(analysis: FaultAnalysis) -> str:
    """The first fault leads: it is what grouping and the reader care about."""
    path = analysis.fault_path
    thread = f" in thread {path.first_thread}" if path.first_thread else ""
    return f"{_first_fault_name(analysis)}{thread}, then a fault in the fault handler"


def _fault_path(analysis: FaultAnalysis) -> str:
    """Say plainly whose registers these are, then what is left of the first fault."""
    path = analysis.fault_path
    handler = path.functions[0] if path.functions else path.interrupted_handler
    second = _fault(analysis) if analysis.cause is not None else _reported(analysis)
    text = (
        f"A second fault inside the fault handler ({handler}): the registers are those of "
        f"the second fault, not of the crash. {second}. "
    )
    reason = ""
    if path.first_reason is not None:
        reason = f" (recorded reason {path.first_reason_name}, 0x{path.first_reason:04X})"
    thread = f" in thread {path.first_thread}" if path.first_thread else ""
    text += f"The first fault: {_first_fault_name(analysis)}{reason}{thread}"
    if path.first_context == "unwound":
        text += "; its context, unwound through the handler's exception frame:"
        text += _place(path.first_place, "").replace("  ", " ", 1)
    else:
        text += "; its registers were lost with the second fault"
    return text + "."


def _assertion(analysis: FaultAnalysis) -> str:
    assertion = analysis.assertion
    text = "Assertion failed"
    if assertion.expression:
        text += f": {assertion.expression}"
    if assertion.file:
        text += f" at {assertion.file}" + (f":{assertion.line}" if assertion.line else "")
        place = analysis.place
        text += f" in {place.function}()" if place and place.function else ""
    else:
        text += _place(analysis.place)
    return text + _context(analysis)


def _overflow(analysis: FaultAnalysis) -> str:
    overflow = analysis.stack_overflow
    if overflow.thread is not None:
        text = f"Stack overflow in thread {overflow.thread}"
    else:
        text = f"Stack overflow on the {'main stack (MSP)' if overflow.stack != 'PSP' else 'PSP'}"
    text += f": {_title(analysis)}"
    if analysis.cause and analysis.cause not in STACKING:
        text += f", {PHRASES.get(analysis.cause, analysis.cause)}"
    text += _address(analysis) + _stack_pointer(analysis) + _place(analysis.place)
    text += _place(analysis.caller, ", called from") if analysis.caller else ""
    if overflow.recursion:
        caller = analysis.caller.function if analysis.caller else None
        what = "recursing" if overflow.recursion == caller else f"{overflow.recursion}()"
        text += f" ({what} {overflow.recursion_depth} frames deep)"
    stacking = [bit for bit in STACKING if bit in analysis.causes]
    if stacking:
        text += f"; stacking the exception frame failed ({', '.join(stacking)})"
    if FaultFlag.FRAME_UNTRUSTED in analysis.flags:
        text += ", so the stacked registers are invalid"
    return text


def _stack_pointer(analysis: FaultAnalysis) -> str:
    overflow = analysis.stack_overflow
    if overflow.sp is None:
        return ""
    if "sp_below_stack_base" in overflow.evidence:
        return f", SP {_hex(overflow.sp)} below the stack base {_hex(overflow.stack_base)}"
    if "fault_address_in_unused_stack" in overflow.evidence:
        return f" below SP {_hex(overflow.sp)}"
    return f", SP {_hex(overflow.sp)}"


def _reported(analysis: FaultAnalysis) -> str:
    """No cause bit: say what the firmware reported, and where."""
    if analysis.trace_reason_name is not None:
        title = REASON_TITLES.get(analysis.trace_reason_name, analysis.trace_reason_name)
    elif analysis.zephyr_reason_name is not None:
        title = f"Zephyr fatal error {analysis.zephyr_reason_name}"
    elif analysis.exception is not None:
        title = TITLES.get(analysis.exception, analysis.exception)
    else:
        title = "Crash"
    return f"{title}{_place(analysis.place)}{_context(analysis)}{_qualifiers(analysis)}"


def _title(analysis: FaultAnalysis) -> str:
    title = TITLES.get(analysis.exception, analysis.exception or "Fault")
    if analysis.escalated_from:
        title += f" (escalated {analysis.escalated_from})"
    return title


def _address(analysis: FaultAnalysis) -> str:
    """' writing 0x0000000C', with the symbol when it says more than "NULL"."""
    address = analysis.address
    if address is None:
        return ""
    if address.source == "PC" and analysis.place is not None and analysis.place.function:
        return ""  # the place names it already
    text = f" {VERBS[analysis.access]} {_hex(address.address)}"
    if address.symbol and not address.near_null:
        offset = f"+{address.offset}" if address.offset else ""
        text += f" <{address.symbol}{offset}>"
    return text


def _place(place: Place | None, preposition: str = "in") -> str:
    """' in calc_ratio() at src/calc.c:10'; `preposition` may start with a comma."""
    if place is None:
        return ""
    if not place.function:
        return f"{_space('at' if preposition == 'in' else preposition)}{_hex(place.pc)}"
    text = f"{_space(preposition)}{place.function}()"
    if place.file:
        text += f" at {place.file}" + (f":{place.line}" if place.line else "")
    return text


def _space(preposition: str) -> str:
    return f"{preposition} " if preposition.startswith(",") else f" {preposition} "


def _context(analysis: FaultAnalysis) -> str:
    context = analysis.context
    if context.mode == "handler":
        handler = f" ({context.handler})" if context.handler else ""
        thread = f" interrupting thread {context.thread}" if context.thread else ""
        return f", in {context.exception}{handler}{thread}"
    return f", thread {context.thread}" if context.thread else ""


def _qualifiers(analysis: FaultAnalysis) -> str:
    text = ""
    if FaultFlag.FRAME_UNTRUSTED in analysis.flags:
        text += "; the stacked registers are invalid"
    if FaultFlag.LOCKUP in analysis.flags:
        text += "; the core locked up"
    return text


def _hex(value: int | None) -> str:
    return "0x????????" if value is None else f"0x{value:08X}"


def describe_registers(analysis: FaultAnalysis) -> list[str]:
    """The decoded register table, one line per register: `CFSR 0x00000082 DACCVIOL ...`."""
    lines = []
    for register, value in analysis.registers.items():
        names = [
            f"{bit.name}={bit.value}" if bit.width > 1 else bit.name
            for bit in analysis.bits
            if bit.register == register
        ]
        lines.append(f"{register:5} {_hex(value)} {' '.join(names)}".rstrip())
    return lines

"""The ways to go from a frame to its caller, one function each.

Each returns the caller as an UnwoundFrame, or raises NoStep with the reason
that way does not apply, so the unwinder can try the next.
"""

from __future__ import annotations

from symbolicator.cfi import CfiError, row_for
from symbolicator.cfi import rules as cfi_rules
from symbolicator.dwarf_expr import ExpressionError
from symbolicator.errors import UnreadableMemory
from symbolicator.unwind import cortex_m
from symbolicator.unwind.frame import How, UnwoundFrame
from symbolicator.unwind.registers import LR, SP, DwarfView, RegisterValues, dwarf_name


class NoStep(Exception):
    """This way of unwinding does not apply here; the message says why."""


class MissingRegister(NoStep):
    """CFI applies, but needs a register whose value is not known in this frame."""

    def __init__(self, message: str, register: str):
        super().__init__(message)
        self.register = register


class Outermost(Exception):
    """The frame is the outermost of its stack (DW_CFA_undefined on the return address)."""


def exception_step(frame: UnwoundFrame, memory) -> UnwoundFrame:
    """Restore the context an exception interrupted (cortex-m-unwinding.md 1.7)."""
    exc = cortex_m.ExcReturn(frame.pc)
    base = frame.registers.get("psp" if exc.uses_psp else "sp")
    if base is None:
        raise NoStep(f"the {'PSP' if exc.uses_psp else 'MSP'} value is not known")
    try:
        stacked = cortex_m.read_exception_frame(memory, exc, base)
    except UnreadableMemory as exc_error:
        raise NoStep(
            f"Cannot access memory at address 0x{exc_error.address:x}: the exception frame "
            f"at 0x{base:08x} was not captured"
        ) from exc_error
    registers = RegisterValues(frame.registers)
    registers.update(stacked.registers)
    registers["sp"] = stacked.sp_before
    registers["psp" if exc.uses_psp else "msp"] = stacked.sp_before
    return UnwoundFrame(
        pc=stacked.registers["pc"],
        registers=registers,
        hint=exc.describe(),
        how=How.EXCEPTION,
        interrupted=True,
        recovered=set(stacked.registers) | {"sp"},
    )


def cfi_step(frame: UnwoundFrame, fde, memory) -> UnwoundFrame:
    """Apply the CFI row at the frame's lookup address (DWARF 5 6.4)."""
    try:
        row = row_for(fde, frame.lookup_pc)
        view = DwarfView(frame.registers)
        if row.cfa is None:
            raise NoStep("the CFI row defines no CFA")
        cfa = row.cfa.compute(view, memory)
        caller, recovered = _apply_rules(row, cfa, view, frame, memory)
    except UnreadableMemory as error:
        raise NoStep(
            f"Cannot access memory at address 0x{error.address:x}: not captured"
        ) from error
    except KeyError as error:
        name = dwarf_name(error.args[0]) or f"DWARF register {error.args[0]}"
        raise MissingRegister(
            f"the CFA is computed from {name}, which is not known here", name
        ) from error
    except (CfiError, ExpressionError) as error:
        raise NoStep(f"CFI cannot be applied: {error}") from error
    return caller_frame(frame, caller, cfa, recovered, How.CFI)


def _apply_rules(row, cfa, view, frame, memory):
    caller = RegisterValues(frame.registers)  # no rule: same value (GDB's default)
    recovered = set()
    for number, rule in row.registers.items():
        name = dwarf_name(number)
        if name is None or number == SP:
            continue
        if number == LR and isinstance(rule, cfi_rules.Undefined):
            raise Outermost()
        value = rule.recover(number, cfa, view, memory)
        if value is None:
            caller.pop(name, None)
        else:
            caller[name] = value
            recovered.add(name)
    caller["sp"] = cfa
    frame.cfa = cfa
    return caller, recovered


def caller_frame(
    frame, registers: RegisterValues, cfa: int, recovered: set, how: How
) -> UnwoundFrame:
    return_address = registers.get("lr")
    if return_address is None:
        raise Outermost()
    # The stack pointer that was active in the frame moves with it.
    for banked in ("msp", "psp"):
        if frame.registers.get(banked) == frame.registers.get("sp"):
            registers[banked] = cfa
    registers["pc"] = return_address & ~1
    if cortex_m.is_exc_return(return_address):
        registers["pc"] = return_address
    elif "xpsr" in registers:
        # The caller runs in Thumb state when it is returned to with bit 0 set; GDB
        # rebuilds xPSR.T from LR the same way (arm_dwarf2_prev_register).
        registers["xpsr"] = (registers["xpsr"] & ~cortex_m.XPSR_THUMB) | (
            cortex_m.XPSR_THUMB if return_address & 1 else 0
        )
    return UnwoundFrame(
        pc=registers["pc"],
        registers=registers,
        hint=how.value,
        how=how,
        exception=cortex_m.is_exc_return(return_address),
        cfa=None,
        recovered=recovered | {"sp", "pc"},
    )


def lr_step(frame: UnwoundFrame, how: How) -> UnwoundFrame:
    """The caller is in LR and SP is unchanged: a leaf that saved nothing."""
    if "lr" not in frame.registers or not frame.interrupted:
        raise NoStep("LR is only known for the innermost frame of a context")
    registers = RegisterValues(frame.registers)
    frame.cfa = frame.registers["sp"]
    return caller_frame(frame, registers, frame.registers["sp"], set(), how)

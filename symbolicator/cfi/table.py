"""Executing CFA instructions to find the row in effect at one PC (DWARF 5 6.4.2)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from symbolicator.cfi import rules
from symbolicator.cfi.parser import CfiError, Fde
from symbolicator.leb128 import Leb128Error, read_sleb, read_uleb


@dataclass
class Row:
    cfa: rules.CfaRegisterOffset | rules.CfaExpression | None = None
    registers: dict[int, object] = field(default_factory=dict)

    def copy(self) -> Row:
        return Row(self.cfa, dict(self.registers))


@dataclass
class _Machine:
    fde: Fde
    target: int
    row: Row = field(default_factory=Row)
    location: int = 0
    initial: Row | None = None
    saved: list[Row] = field(default_factory=list)
    done: bool = False


def row_for(fde: Fde, pc: int) -> Row:
    """The unwind row of `fde` that applies at `pc` (the last row starting at or before it)."""
    machine = _Machine(fde, pc, location=fde.start)
    try:
        _run(machine, fde.cie.instructions)
        machine.initial = machine.row.copy()
        _run(machine, fde.instructions)
    except (IndexError, struct.error, Leb128Error) as error:
        # The instructions are only decoded here, for the pc an unwind step needs; an
        # operand cut off by the end of them is a CfiError, which the unwinder reports
        # as a step it cannot take.
        raise CfiError(
            f"CFA instructions of the FDE at {fde.offset} run past their end ({error})"
        ) from error
    return machine.row


def _run(machine: _Machine, code: bytes) -> None:
    offset = 0
    while offset < len(code) and not machine.done:
        opcode = code[offset]
        offset += 1
        high, low = opcode >> 6, opcode & 0x3F
        if high:
            offset = _PRIMARY[high](machine, low, code, offset)
        else:
            handler = _EXTENDED.get(low)
            if handler is None:
                raise CfiError(
                    f"unknown CFA instruction 0x{opcode:02x} in FDE at {machine.fde.offset}"
                )
            offset = handler(machine, code, offset)


def _advance(machine: _Machine, delta: int) -> None:
    new_location = machine.location + delta * machine.fde.cie.code_alignment
    # Rows start at their location; once the next row would start past the
    # target, the current row is the answer.
    if new_location > machine.target:
        machine.done = True
    else:
        machine.location = new_location


def _data(machine: _Machine, factored: int) -> int:
    return factored * machine.fde.cie.data_alignment


def _advance_loc(machine, low, code, offset):
    _advance(machine, low)
    return offset


def _offset(machine, low, code, offset):
    value, offset = read_uleb(code, offset)
    machine.row.registers[low] = rules.Offset(_data(machine, value))
    return offset


def _restore(machine, low, code, offset):
    _restore_register(machine, low)
    return offset


def _restore_register(machine: _Machine, register: int) -> None:
    initial = machine.initial.registers if machine.initial else {}
    if register in initial:
        machine.row.registers[register] = initial[register]
    else:
        machine.row.registers.pop(register, None)


_PRIMARY = {1: _advance_loc, 2: _offset, 3: _restore}


def _nop(machine, code, offset):
    return offset


def _set_loc(machine, code, offset):
    (address,) = struct.unpack_from("<I", code, offset)
    if address > machine.target:
        machine.done = True
    else:
        machine.location = address
    return offset + 4


def _advance_loc_n(size: int, form: str):
    def handler(machine, code, offset):
        (delta,) = struct.unpack_from(form, code, offset)
        _advance(machine, delta)
        return offset + size

    return handler


def _offset_extended(machine, code, offset):
    register, offset = read_uleb(code, offset)
    value, offset = read_uleb(code, offset)
    machine.row.registers[register] = rules.Offset(_data(machine, value))
    return offset


def _offset_extended_sf(machine, code, offset):
    register, offset = read_uleb(code, offset)
    value, offset = read_sleb(code, offset)
    machine.row.registers[register] = rules.Offset(_data(machine, value))
    return offset


def _negative_offset_extended(machine, code, offset):
    register, offset = read_uleb(code, offset)
    value, offset = read_uleb(code, offset)
    machine.row.registers[register] = rules.Offset(-_data(machine, value))
    return offset


def _restore_extended(machine, code, offset):
    register, offset = read_uleb(code, offset)
    _restore_register(machine, register)
    return offset


def _register_rule(rule):
    def handler(machine, code, offset):
        register, offset = read_uleb(code, offset)
        machine.row.registers[register] = rule
        return offset

    return handler


def _register(machine, code, offset):
    register, offset = read_uleb(code, offset)
    source, offset = read_uleb(code, offset)
    machine.row.registers[register] = rules.InRegister(source)
    return offset


def _remember_state(machine, code, offset):
    machine.saved.append(machine.row.copy())
    return offset


def _restore_state(machine, code, offset):
    if not machine.saved:
        raise CfiError(
            f"DW_CFA_restore_state without remember_state in FDE at {machine.fde.offset}"
        )
    # The CFA is part of the state too (DWARF 5 6.4.2.4).
    machine.row = machine.saved.pop()
    return offset


def _def_cfa(machine, code, offset):
    register, offset = read_uleb(code, offset)
    value, offset = read_uleb(code, offset)
    machine.row.cfa = rules.CfaRegisterOffset(register, value)
    return offset


def _def_cfa_sf(machine, code, offset):
    # DWARF 5 6.4.2.2: the offset is factored by the *data* alignment factor.
    register, offset = read_uleb(code, offset)
    value, offset = read_sleb(code, offset)
    machine.row.cfa = rules.CfaRegisterOffset(register, _data(machine, value))
    return offset


def _def_cfa_register(machine, code, offset):
    register, offset = read_uleb(code, offset)
    machine.row.cfa = rules.CfaRegisterOffset(register, _cfa_offset(machine))
    return offset


def _def_cfa_offset(machine, code, offset):
    value, offset = read_uleb(code, offset)
    machine.row.cfa = rules.CfaRegisterOffset(_cfa_register(machine), value)
    return offset


def _def_cfa_offset_sf(machine, code, offset):
    value, offset = read_sleb(code, offset)
    machine.row.cfa = rules.CfaRegisterOffset(_cfa_register(machine), _data(machine, value))
    return offset


def _cfa_register(machine: _Machine) -> int:
    if not isinstance(machine.row.cfa, rules.CfaRegisterOffset):
        raise CfiError("CFA offset changed while the CFA is not register-based")
    return machine.row.cfa.register


def _cfa_offset(machine: _Machine) -> int:
    if isinstance(machine.row.cfa, rules.CfaRegisterOffset):
        return machine.row.cfa.offset
    return 0


def _block(code, offset) -> tuple[bytes, int]:
    length, offset = read_uleb(code, offset)
    return bytes(code[offset : offset + length]), offset + length


def _def_cfa_expression(machine, code, offset):
    expression, offset = _block(code, offset)
    machine.row.cfa = rules.CfaExpression(expression)
    return offset


def _expression_rule(kind):
    def handler(machine, code, offset):
        register, offset = read_uleb(code, offset)
        expression, offset = _block(code, offset)
        machine.row.registers[register] = kind(expression)
        return offset

    return handler


def _value_offset(signed: bool):
    def handler(machine, code, offset):
        register, offset = read_uleb(code, offset)
        value, offset = (read_sleb if signed else read_uleb)(code, offset)
        machine.row.registers[register] = rules.ValueOffset(_data(machine, value))
        return offset

    return handler


def _args_size(machine, code, offset):
    # Only says how many bytes of arguments are on the stack (x86); no rule changes.
    _, offset = read_uleb(code, offset)
    return offset


_EXTENDED = {
    0x00: _nop,
    0x01: _set_loc,
    0x02: _advance_loc_n(1, "<B"),
    0x03: _advance_loc_n(2, "<H"),
    0x04: _advance_loc_n(4, "<I"),
    0x05: _offset_extended,
    0x06: _restore_extended,
    0x07: _register_rule(rules.UNDEFINED),
    0x08: _register_rule(rules.SAME_VALUE),
    0x09: _register,
    0x0A: _remember_state,
    0x0B: _restore_state,
    0x0C: _def_cfa,
    0x0D: _def_cfa_register,
    0x0E: _def_cfa_offset,
    0x0F: _def_cfa_expression,
    0x10: _expression_rule(rules.Expression),
    0x11: _offset_extended_sf,
    0x12: _def_cfa_sf,
    0x13: _def_cfa_offset_sf,
    0x14: _value_offset(signed=False),
    0x15: _value_offset(signed=True),
    0x16: _expression_rule(rules.ValueExpression),
    0x2E: _args_size,
    0x2F: _negative_offset_extended,
}

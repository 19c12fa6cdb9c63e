"""The rules of a CFI row (DWARF 5 section 6.4.1) and how each recovers a value.

Every rule answers one question: given the CFA and the registers of the
frame being unwound (the callee), what was the register's value in the
caller? Reading saved slots goes through the unwinder's memory reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.dwarf_expr import evaluate


@dataclass(frozen=True)
class CfaRegisterOffset:
    register: int
    offset: int

    def compute(self, registers, memory) -> int:
        return (registers[self.register] + self.offset) & 0xFFFFFFFF


@dataclass(frozen=True)
class CfaExpression:
    expression: bytes

    def compute(self, registers, memory) -> int:
        return evaluate(self.expression, registers=registers, memory=memory)


class Undefined:
    """The register has no recoverable value in the caller; on the return
    address column this marks the outermost frame."""

    def __repr__(self):
        return "Undefined()"

    def recover(self, register, cfa, registers, memory) -> int | None:
        return None


class SameValue:
    def __repr__(self):
        return "SameValue()"

    def recover(self, register, cfa, registers, memory) -> int | None:
        return registers.get(register)


@dataclass(frozen=True)
class Offset:
    """Saved in memory at CFA + offset."""

    offset: int

    def recover(self, register, cfa, registers, memory) -> int | None:
        return memory.read_u32((cfa + self.offset) & 0xFFFFFFFF)


@dataclass(frozen=True)
class ValueOffset:
    """The value itself is CFA + offset."""

    offset: int

    def recover(self, register, cfa, registers, memory) -> int | None:
        return (cfa + self.offset) & 0xFFFFFFFF


@dataclass(frozen=True)
class InRegister:
    """Saved in another register of the callee."""

    source: int

    def recover(self, register, cfa, registers, memory) -> int | None:
        return registers.get(self.source)


@dataclass(frozen=True)
class Expression:
    """Saved in memory at the address the expression computes, CFA pushed first."""

    expression: bytes

    def recover(self, register, cfa, registers, memory) -> int | None:
        address = evaluate(self.expression, registers=registers, memory=memory, initial=[cfa])
        return memory.read_u32(address)


@dataclass(frozen=True)
class ValueExpression:
    expression: bytes

    def recover(self, register, cfa, registers, memory) -> int | None:
        return evaluate(self.expression, registers=registers, memory=memory, initial=[cfa])


UNDEFINED = Undefined()
SAME_VALUE = SameValue()

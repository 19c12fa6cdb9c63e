"""The DWARF expression stack machine (DWARF 5 section 2.5) for 32-bit targets.

Two uses: CFI rules want a number (`evaluate`), variable locations want to
know *where* a value lives (`locate`): in memory, in a register, nowhere
(an implicit value computed by the expression), or in pieces.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from symbolicator.errors import SymbolicatorError, UnreadableMemory
from symbolicator.leb128 import Leb128Error, read_sleb, read_uleb

MASK = 0xFFFFFFFF


class ExpressionError(SymbolicatorError):
    """The expression cannot be evaluated: an unsupported operation or missing input."""


class UnknownRegister(ExpressionError):
    def __init__(self, register: int):
        super().__init__(f"register {register} is not known in this frame")
        self.register = register


# -- where a value lives -----------------------------------------------------


@dataclass(frozen=True)
class InMemory:
    address: int


@dataclass(frozen=True)
class InRegister:
    register: int


@dataclass(frozen=True)
class Implicit:
    """No storage: the expression computed the value itself (DW_OP_stack_value,
    DW_OP_implicit_value)."""

    data: bytes


@dataclass(frozen=True)
class ImplicitPointer:
    die_offset: int
    offset: int


@dataclass(frozen=True)
class OptimizedOut:
    pass


@dataclass(frozen=True)
class Piece:
    location: object  # one of the classes above
    size_bits: int
    offset_bits: int = 0


@dataclass(frozen=True)
class Pieces:
    pieces: tuple[Piece, ...]


# -- evaluation ----------------------------------------------------------------


@dataclass
class Context:
    """What an expression may look at. Callables are only called when needed."""

    registers: Mapping[int, int] = field(default_factory=dict)
    memory: object = None
    frame_base: Callable[[], int] | None = None
    cfa: Callable[[], int] | None = None
    entry_value: Callable[[bytes], int] | None = None
    object_address: int | None = None
    # DW_OP_addrx / DW_OP_constx: entry n of the unit's .debug_addr (DWARF 5 2.5.1.1);
    # clang writes every global's location this way.
    address_index: Callable[[int], int] | None = None


@dataclass
class _State:
    code: bytes
    context: Context
    stack: list[int]
    offset: int = 0
    location: object | None = None  # set by reg/stack_value/implicit ops
    pieces: list[Piece] = field(default_factory=list)


def evaluate(expression: bytes, *, registers=None, memory=None, initial=None, context=None) -> int:
    """Run an expression whose result is a number, e.g. a CFA or a saved-register address."""
    context = context or Context(registers=registers or {}, memory=memory)
    state = _run(expression, context, list(initial or []))
    if state.location is not None or state.pieces:
        raise ExpressionError("expected a number, the expression describes a location")
    if not state.stack:
        raise ExpressionError("the expression left nothing on the stack")
    return state.stack[-1] & MASK


def locate(expression: bytes, context: Context):
    """Where the value described by a location expression lives (DWARF 5 2.6)."""
    if not expression:
        return OptimizedOut()
    state = _run(expression, context, [])
    if state.pieces:
        return Pieces(tuple(state.pieces))
    if state.location is not None:
        return state.location
    if not state.stack:
        raise ExpressionError("the location expression left nothing on the stack")
    return InMemory(state.stack[-1] & MASK)


# DW_OP_skip and DW_OP_bra can jump back, so a damaged expression may loop; GCC's
# longest expressions run a few dozen operations.
MAX_OPERATIONS = 10_000


def _run(code: bytes, context: Context, stack: list[int]) -> _State:
    state = _State(code, context, stack)
    try:
        for _ in range(MAX_OPERATIONS):
            if state.offset >= len(code):
                return state
            opcode = code[state.offset]
            state.offset += 1
            handler = _handler(opcode)
            if handler is None:
                raise ExpressionError(f"unsupported DWARF operation 0x{opcode:02x}")
            handler(state, opcode)
    except (IndexError, struct.error, Leb128Error) as error:  # an operand cut off by the end
        raise ExpressionError(
            f"DWARF operation at offset {state.offset} runs past the expression's {len(code)} bytes"
        ) from error
    raise ExpressionError(f"DWARF expression still running after {MAX_OPERATIONS} operations")


def _handler(opcode: int):
    if 0x30 <= opcode <= 0x4F:
        return _lit
    if 0x50 <= opcode <= 0x6F:
        return _reg
    if 0x70 <= opcode <= 0x8F:
        return _breg
    return _OPS.get(opcode)


def _pop(state: _State) -> int:
    if not state.stack:
        raise ExpressionError("DWARF expression stack underflow")
    return state.stack.pop()


def _uleb(state: _State) -> int:
    value, state.offset = read_uleb(state.code, state.offset)
    return value


def _sleb(state: _State) -> int:
    value, state.offset = read_sleb(state.code, state.offset)
    return value


def _fixed(state: _State, form: str) -> int:
    (value,) = struct.unpack_from(form, state.code, state.offset)
    state.offset += struct.calcsize(form)
    return value


def _register_value(state: _State, register: int) -> int:
    value = state.context.registers.get(register)
    if value is None:
        raise UnknownRegister(register)
    return value


class MemoryUnavailable(ExpressionError):
    def __init__(self, address: int):
        super().__init__(f"Cannot access memory at address 0x{address:x}")
        self.address = address


def _read(state: _State, address: int, size: int) -> int:
    if state.context.memory is None:
        raise ExpressionError("the expression reads memory, and no memory was given")
    try:
        data = state.context.memory.read(address & MASK, size)
    except UnreadableMemory as error:
        raise MemoryUnavailable(error.address) from error
    return int.from_bytes(data, "little")


def _lit(state, opcode):
    state.stack.append(opcode - 0x30)


def _reg(state, opcode):
    state.location = InRegister(opcode - 0x50)


def _regx(state, opcode):
    state.location = InRegister(_uleb(state))


def _breg(state, opcode):
    offset = _sleb(state)
    state.stack.append((_register_value(state, opcode - 0x70) + offset) & MASK)


def _bregx(state, opcode):
    register = _uleb(state)
    state.stack.append((_register_value(state, register) + _sleb(state)) & MASK)


def _fbreg(state, opcode):
    if state.context.frame_base is None:
        raise ExpressionError("DW_OP_fbreg outside a function with a frame base")
    state.stack.append((state.context.frame_base() + _sleb(state)) & MASK)


def _call_frame_cfa(state, opcode):
    if state.context.cfa is None:
        raise ExpressionError("DW_OP_call_frame_cfa without call frame information")
    state.stack.append(state.context.cfa())


def _const(form: str):
    def handler(state, opcode):
        state.stack.append(_fixed(state, form) & MASK)

    return handler


def _constu(state, opcode):
    state.stack.append(_uleb(state) & MASK)


def _address_index(state, opcode):
    index = _uleb(state)
    if state.context.address_index is None:
        raise ExpressionError("DW_OP_addrx outside a unit with .debug_addr")
    state.stack.append(state.context.address_index(index) & MASK)


def _consts(state, opcode):
    state.stack.append(_sleb(state) & MASK)


def _deref(state, opcode):
    state.stack.append(_read(state, _pop(state), 4))


def _deref_size(state, opcode):
    size = state.code[state.offset]
    state.offset += 1
    state.stack.append(_read(state, _pop(state), size))


def _stack_op(depth: int, function):
    """dup, drop, over, swap and rot, each needing `depth` values on the stack."""

    def handler(state, opcode):
        if len(state.stack) < depth:
            raise ExpressionError("DWARF expression stack underflow")
        function(state.stack)

    return handler


def _pick(state, opcode):
    index = state.code[state.offset]
    state.offset += 1
    if index >= len(state.stack):
        raise ExpressionError("DW_OP_pick beyond the stack")
    state.stack.append(state.stack[-1 - index])


def _signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


def _binary(function):
    def handler(state, opcode):
        right, left = _pop(state), _pop(state)
        state.stack.append(function(left, right) & MASK)

    return handler


def _unary(function):
    def handler(state, opcode):
        state.stack.append(function(_pop(state)) & MASK)

    return handler


def _div(left, right):
    if right == 0:
        raise ExpressionError("division by zero in a DWARF expression")
    return int(_signed(left) / _signed(right))


def _mod(left, right):
    if right == 0:
        raise ExpressionError("modulo by zero in a DWARF expression")
    return left % right


def _plus_uconst(state, opcode):
    state.stack.append((_pop(state) + _uleb(state)) & MASK)


def _skip(state, opcode):
    _jump(state, _fixed(state, "<h"))  # counted from after the operand


def _bra(state, opcode):
    jump = _fixed(state, "<h")
    if _pop(state) != 0:
        _jump(state, jump)


def _jump(state, jump: int) -> None:
    target = state.offset + jump
    if not 0 <= target <= len(state.code):
        raise ExpressionError(f"DWARF expression branches to offset {target}, outside it")
    state.offset = target


def _piece(state, opcode):
    _finish_piece(state, _uleb(state) * 8, 0)


def _bit_piece(state, opcode):
    size = _uleb(state)
    _finish_piece(state, size, _uleb(state))


def _finish_piece(state: _State, size_bits: int, offset_bits: int) -> None:
    if state.location is not None:
        location = state.location
    elif state.stack:
        location = InMemory(state.stack.pop() & MASK)
    else:
        location = OptimizedOut()  # an empty piece: this part was optimized away
    state.pieces.append(Piece(location, size_bits, offset_bits))
    state.location = None


def _stack_value(state, opcode):
    state.location = Implicit(struct.pack("<I", _pop(state) & MASK))


def _implicit_value(state, opcode):
    length = _uleb(state)
    state.location = Implicit(bytes(state.code[state.offset : state.offset + length]))
    state.offset += length


def _implicit_pointer(state, opcode):
    die = _fixed(state, "<I")
    state.location = ImplicitPointer(die, _sleb(state))


def _entry_value(state, opcode):
    length = _uleb(state)
    block = bytes(state.code[state.offset : state.offset + length])
    state.offset += length
    if state.context.entry_value is None:
        raise ExpressionError("entry value needed, and no caller information is available")
    state.stack.append(state.context.entry_value(block) & MASK)


def _typed_ignored(operands: str):
    """Typed-stack operations: on a 32-bit target the base type does not change
    the bits of the integer values GCC uses them with, so only operands are skipped."""

    def handler(state, opcode):
        for _ in operands:
            _uleb(state)

    return handler


def _const_type(state, opcode):
    _uleb(state)  # base type DIE offset
    size = state.code[state.offset]
    value = state.code[state.offset + 1 : state.offset + 1 + size]
    state.offset += 1 + size
    state.stack.append(int.from_bytes(value, "little") & MASK)


def _regval_type(state, opcode):
    register = _uleb(state)
    _uleb(state)  # base type DIE offset
    state.stack.append(_register_value(state, register))


def _deref_type(state, opcode):
    size = state.code[state.offset]
    state.offset += 1
    _uleb(state)
    state.stack.append(_read(state, _pop(state), size))


def _push_object_address(state, opcode):
    if state.context.object_address is None:
        raise ExpressionError("DW_OP_push_object_address without an object")
    state.stack.append(state.context.object_address)


def _nop(state, opcode):
    pass


def _uninit(state, opcode):
    # GCC marks a variable whose register holds a value before its initialisation
    # ran; GDB prints that value as it is, so only the placement is checked.
    if state.offset != len(state.code):
        raise ExpressionError("DW_OP_GNU_uninit must always be the last operation")


def _rot(stack):
    stack[-3:] = [stack[-1], stack[-3], stack[-2]]


_OPS = {
    0x03: _const("<I"),  # addr
    0x06: _deref,
    0x08: _const("<B"),
    0x09: _const("<b"),
    0x0A: _const("<H"),
    0x0B: _const("<h"),
    0x0C: _const("<I"),
    0x0D: _const("<i"),
    0x0E: _const("<Q"),
    0x0F: _const("<q"),
    0x10: _constu,
    0xA1: _address_index,  # DW_OP_addrx
    0xA2: _address_index,  # DW_OP_constx
    0xFB: _address_index,  # DW_OP_GNU_addr_index
    0xFC: _address_index,  # DW_OP_GNU_const_index
    0x11: _consts,
    0x12: _stack_op(1, lambda s: s.append(s[-1])),
    0x13: _stack_op(1, lambda s: s.pop()),
    0x14: _stack_op(2, lambda s: s.append(s[-2])),
    0x15: _pick,
    0x16: _stack_op(2, lambda s: s.__setitem__(slice(-2, None), [s[-1], s[-2]])),
    0x17: _stack_op(3, _rot),
    0x19: _unary(lambda v: abs(_signed(v))),
    0x1A: _binary(lambda a, b: a & b),
    0x1B: _binary(_div),
    0x1C: _binary(lambda a, b: a - b),
    0x1D: _binary(_mod),
    0x1E: _binary(lambda a, b: a * b),
    0x1F: _unary(lambda v: -_signed(v)),
    0x20: _unary(lambda v: ~v),
    0x21: _binary(lambda a, b: a | b),
    0x22: _binary(lambda a, b: a + b),
    0x23: _plus_uconst,
    0x24: _binary(lambda a, b: a << b if b < 32 else 0),
    0x25: _binary(lambda a, b: a >> b),
    0x26: _binary(lambda a, b: _signed(a) >> min(b, 31)),
    0x27: _binary(lambda a, b: a ^ b),
    0x28: _bra,
    0x29: _binary(lambda a, b: int(a == b)),
    0x2A: _binary(lambda a, b: int(_signed(a) >= _signed(b))),
    0x2B: _binary(lambda a, b: int(_signed(a) > _signed(b))),
    0x2C: _binary(lambda a, b: int(_signed(a) <= _signed(b))),
    0x2D: _binary(lambda a, b: int(_signed(a) < _signed(b))),
    0x2E: _binary(lambda a, b: int(a != b)),
    0x2F: _skip,
    0x90: _regx,
    0x91: _fbreg,
    0x92: _bregx,
    0x93: _piece,
    0x94: _deref_size,
    0x96: _nop,
    0x97: _push_object_address,
    0x9C: _call_frame_cfa,
    0x9D: _bit_piece,
    0x9E: _implicit_value,
    0x9F: _stack_value,
    0xA0: _implicit_pointer,
    0xA3: _entry_value,
    0xA4: _const_type,
    0xA5: _regval_type,
    0xA6: _deref_type,
    0xA8: _typed_ignored("u"),  # convert
    0xA9: _typed_ignored("u"),  # reinterpret
    0xF0: _uninit,  # DW_OP_GNU_uninit
    0xF2: _implicit_pointer,  # DW_OP_GNU_implicit_pointer (DWARF 4 builds)
    0xF3: _entry_value,  # DW_OP_GNU_entry_value
    0xF5: _regval_type,  # DW_OP_GNU_regval_type
    0xF6: _deref_type,  # DW_OP_GNU_deref_type
    0xF7: _typed_ignored("u"),  # DW_OP_GNU_convert
    0xF9: _typed_ignored("u"),  # DW_OP_GNU_reinterpret
}

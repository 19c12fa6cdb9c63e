"""The DWARF expression stack machine, one operation family at a time.

DWARF 5 section 2.5.1 (stack operations: literals 2.5.1.1, register based addressing
2.5.1.2, stack manipulation 2.5.1.3, arithmetic and logical 2.5.1.4, control flow 2.5.1.5,
typed operations 2.5.1.6), 2.6.1 (simple and composite locations) and 7.7.1 (the opcode
values, table 7.9). The generic type is a signed 32-bit address-sized integer, as GDB's
"<signed DWARF address type>" (gdb/dwarf2/expr.c address_type), so division, shifts to
the right arithmetic and comparisons are signed, and DW_OP_mod is unsigned (GDB computes
"old-style" untyped modulo with unsigned math).
"""

import struct

import pytest

from symbolicator.dwarf_expr import (
    Context,
    ExpressionError,
    Implicit,
    ImplicitPointer,
    InMemory,
    InRegister,
    OptimizedOut,
    Piece,
    Pieces,
    UnknownRegister,
    evaluate,
    locate,
)
from symbolicator.leb128 import encode_sleb as sleb
from symbolicator.leb128 import encode_uleb as uleb
from symbolicator.memory import SOURCE_COREDUMP, Memory, Span

# DWARF 5 table 7.9.
ADDR, DEREF, CONST1U, CONST1S, CONST2U, CONST2S, CONST4U, CONST4S = (
    0x03, 0x06, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
)  # fmt: skip
CONSTU, CONSTS, DUP, DROP, OVER, PICK, SWAP, ROT = (
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
)  # fmt: skip
ABS, AND, DIV, MINUS, MOD, MUL, NEG, NOT, OR, PLUS, PLUS_UCONST = (
    0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23,
)  # fmt: skip
SHL, SHR, SHRA, XOR, BRA, EQ, GE, GT, LE, LT, NE, SKIP = (
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
)  # fmt: skip
LIT0, REG0, BREG0 = 0x30, 0x50, 0x70
REGX, FBREG, BREGX, PIECE, DEREF_SIZE, NOP = 0x90, 0x91, 0x92, 0x93, 0x94, 0x96
CALL_FRAME_CFA, BIT_PIECE, IMPLICIT_VALUE, STACK_VALUE, IMPLICIT_POINTER = (
    0x9C, 0x9D, 0x9E, 0x9F, 0xA0,
)  # fmt: skip
ENTRY_VALUE, CONST_TYPE, REGVAL_TYPE, CONVERT = 0xA3, 0xA4, 0xA5, 0xA8
GNU_ENTRY_VALUE, GNU_IMPLICIT_POINTER = 0xF3, 0xF2


def op(code: int, *operands: bytes) -> bytes:
    return bytes([code]) + b"".join(operands)


def lit(n: int) -> bytes:
    return bytes([LIT0 + n])


def const(value: int) -> bytes:
    return op(CONSTS, sleb(value))


def run(*ops: bytes, **context) -> int:
    return evaluate(b"".join(ops), context=Context(**context))


def signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


# -- literals and constants (2.5.1.1) ---------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 17, 31])
def test_lit_n_pushes_n(n):
    assert run(lit(n)) == n


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        (op(ADDR, struct.pack("<I", 0x20000010)), 0x20000010),
        (op(CONST1U, b"\xff"), 0xFF),
        (op(CONST1S, b"\xff"), 0xFFFFFFFF),
        (op(CONST2U, b"\x34\x82"), 0x8234),
        (op(CONST2S, b"\x34\x82"), 0xFFFF8234),
        (op(CONST4U, b"\x78\x56\x34\x12"), 0x12345678),
        (op(CONST4S, b"\xfe\xff\xff\xff"), 0xFFFFFFFE),
        (op(CONSTU, uleb(624485)), 624485),
        (op(CONSTS, sleb(-123456)), (-123456) & 0xFFFFFFFF),
    ],
)
def test_constants_are_read_with_their_size_and_sign(expression, value):
    assert evaluate(expression) == value


# -- stack manipulation (2.5.1.3) ------------------------------------------------------------


def stack_after(*ops: bytes) -> list[int]:
    """The top three entries of the stack, top first, read by dropping 0, 1 and 2 of them."""
    values = []
    for depth in range(1, 4):
        try:
            values.append(run(*ops, *[op(DROP)] * (depth - 1)))
        except ExpressionError:
            break
    return values  # top first


def test_dup_drop_over_swap_and_pick():
    assert run(lit(1), lit(2), op(DUP)) == 2
    assert run(lit(1), lit(2), op(DROP)) == 1
    assert run(lit(1), lit(2), op(OVER)) == 1
    assert run(lit(1), lit(2), op(SWAP)) == 1
    assert run(lit(1), lit(2), op(SWAP), op(DROP)) == 2
    assert run(lit(7), lit(8), lit(9), op(PICK, b"\x02")) == 7
    assert run(lit(7), lit(8), lit(9), op(PICK, b"\x00")) == 9


def test_rot_moves_the_top_entry_to_third_place():
    # Stack 1 2 3 (3 on top) becomes 3 1 2 (2 on top).
    rotated = (lit(1), lit(2), lit(3), op(ROT))

    assert stack_after(*rotated) == [2, 1, 3]


def test_pick_beyond_the_stack_is_an_error():
    with pytest.raises(ExpressionError, match="DW_OP_pick"):
        run(lit(1), op(PICK, b"\x01"))


def test_nop_does_nothing():
    assert run(lit(3), op(NOP)) == 3


# -- arithmetic and logic (2.5.1.4) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("ops", "value"),
    [
        ((lit(7), lit(5), op(MINUS)), 2),
        ((lit(5), lit(7), op(MINUS)), (-2) & 0xFFFFFFFF),
        ((lit(6), lit(7), op(MUL)), 42),
        ((const(0x7FFFFFFF), lit(1), op(PLUS)), 0x80000000),
        ((const(-1), lit(1), op(PLUS)), 0),  # wraps at 32 bits
        ((lit(30), op(PLUS_UCONST, uleb(300))), 330),
        ((const(0xF0), const(0x3C), op(AND)), 0x30),
        ((const(0xF0), const(0x3C), op(OR)), 0xFC),
        ((const(0xF0), const(0x3C), op(XOR)), 0xCC),
        ((lit(0), op(NOT)), 0xFFFFFFFF),
        ((lit(5), op(NEG)), (-5) & 0xFFFFFFFF),
        ((const(-5), op(ABS)), 5),
    ],
)
def test_arithmetic_wraps_at_32_bits(ops, value):
    assert run(*ops) == value


def test_division_is_signed_and_truncates_towards_zero():
    assert signed(run(const(-7), lit(2), op(DIV))) == -3
    assert signed(run(lit(7), const(-2), op(DIV))) == -3
    assert run(lit(7), lit(2), op(DIV)) == 3


def test_modulo_of_untyped_values_is_unsigned():
    # gdb/dwarf2/expr.c: untyped DW_OP_mod is computed with unsigned math.
    assert run(const(-7), lit(2), op(MOD)) == 0xFFFFFFF9 % 2
    assert run(lit(7), lit(3), op(MOD)) == 1


@pytest.mark.parametrize("operation", [DIV, MOD])
def test_division_by_zero_is_an_error(operation):
    with pytest.raises(ExpressionError, match="by zero"):
        run(lit(1), lit(0), op(operation))


def test_shifts_left_and_logical_right_are_unsigned_and_shra_is_arithmetic():
    assert run(lit(1), lit(31), op(SHL)) == 0x80000000
    assert run(lit(1), const(32), op(SHL)) == 0
    assert run(const(-16), lit(4), op(SHR)) == 0x0FFFFFFF
    assert run(const(-16), lit(4), op(SHRA)) == 0xFFFFFFFF
    assert run(lit(16), lit(4), op(SHRA)) == 1


# -- comparisons and control flow (2.5.1.4, 2.5.1.5) -------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [(EQ, 0), (NE, 1), (LT, 1), (LE, 1), (GT, 0), (GE, 0)],
)
def test_comparisons_are_signed(operation, expected):
    # -1 against 1: signed, -1 is the smaller one (unsigned it would be the larger).
    assert run(const(-1), lit(1), op(operation)) == expected


def test_comparisons_of_equal_values():
    assert [run(lit(4), lit(4), op(o)) for o in (EQ, NE, LT, LE, GT, GE)] == [1, 0, 0, 1, 0, 1]


def test_skip_jumps_from_after_its_operand():
    # skip +1 jumps over lit9: the result is lit3.
    assert run(op(SKIP, struct.pack("<h", 1)), lit(9), lit(3)) == 3


def test_bra_jumps_only_when_the_popped_value_is_not_zero():
    # lit7; lit<flag>; bra +1 (over lit5); lit5
    def choose(flag: int) -> int:
        return run(lit(7), lit(flag), op(BRA, struct.pack("<h", 1)), lit(5))

    assert choose(1) == 7
    assert choose(0) == 5


def test_bra_counts_backwards_from_after_its_operand():
    # lit3; L: lit1; minus; dup; bra L (6 bytes back from after the operand): counts to 0.
    loop = lit(3) + lit(1) + op(MINUS) + op(DUP) + op(BRA, struct.pack("<h", -6))

    assert evaluate(loop) == 0


def test_an_expression_that_never_ends_is_stopped():
    """Found by fuzzing (issue 12): DW_OP_skip back to itself looped for ever."""
    forever = op(SKIP, struct.pack("<h", -3))
    with pytest.raises(ExpressionError, match="still running after 10000 operations"):
        evaluate(forever)


def test_a_branch_out_of_the_expression_is_an_error():
    with pytest.raises(ExpressionError, match="branches to offset -7, outside it"):
        evaluate(op(SKIP, struct.pack("<h", -10)))
    with pytest.raises(ExpressionError, match="branches to offset 5, outside it"):
        evaluate(lit(1) + op(BRA, struct.pack("<h", 1)))


def test_an_operand_cut_off_by_the_end_is_an_expression_error():
    """Found by fuzzing: struct.error and IndexError escaped from truncated operands."""
    with pytest.raises(ExpressionError, match="runs past the expression's 3 bytes"):
        evaluate(op(CONST4U, b"\x78\x56"))
    with pytest.raises(ExpressionError, match="runs past"):
        evaluate(op(BREG0 + 13) + b"\x80", registers={13: 0})


# -- register based addressing (2.5.1.2) and register locations (2.6.1.1.3) -----------------


def test_breg_adds_a_signed_offset_to_a_register():
    assert run(op(BREG0 + 13, sleb(-8)), registers={13: 0x20000100}) == 0x200000F8


def test_bregx_names_registers_past_31():
    assert run(op(BREGX, uleb(80), sleb(4)), registers={80: 0x100}) == 0x104


def test_fbreg_offsets_the_frame_base():
    assert run(op(FBREG, sleb(-12)), frame_base=lambda: 0x20000200) == 0x200001F4


def test_fbreg_without_a_frame_base_is_an_error():
    with pytest.raises(ExpressionError, match="frame base"):
        run(op(FBREG, sleb(0)))


def test_call_frame_cfa_pushes_the_cfa():
    assert run(op(CALL_FRAME_CFA), cfa=lambda: 0x20000300) == 0x20000300


def test_reg_and_regx_describe_a_register_location():
    assert locate(op(REG0 + 4), Context()) == InRegister(4)
    assert locate(op(REGX, uleb(256 + 8)), Context()) == InRegister(264)


def test_gnu_uninit_after_a_location_keeps_the_location():
    # GCC's "this register holds the value before its initialisation ran"; GDB prints it.
    assert locate(op(REG0 + 5), Context()) == locate(op(REG0 + 5) + bytes([0xF0]), Context())


def test_gnu_uninit_anywhere_but_last_is_an_error():
    with pytest.raises(ExpressionError, match="last operation"):
        locate(op(REG0 + 5) + bytes([0xF0]) + op(NOP), Context())


def test_an_unknown_register_is_named():
    with pytest.raises(UnknownRegister, match="register 7 is not known") as raised:
        run(op(BREG0 + 7, sleb(0)), registers={13: 0})

    assert raised.value.register == 7


# -- memory (2.5.1.3) -----------------------------------------------------------------------

DATA = 0x20000400
MEMORY = Memory([Span(DATA, bytes.fromhex("efbeadde 7f"), SOURCE_COREDUMP)])


def test_deref_reads_a_32_bit_word():
    assert run(op(ADDR, struct.pack("<I", DATA)), op(DEREF), memory=MEMORY) == 0xDEADBEEF


def test_deref_size_reads_fewer_bytes_zero_extended():
    address = op(ADDR, struct.pack("<I", DATA))

    assert run(address, op(DEREF_SIZE, b"\x01"), memory=MEMORY) == 0xEF
    assert run(address, op(DEREF_SIZE, b"\x02"), memory=MEMORY) == 0xBEEF


def test_deref_of_uncaptured_memory_names_the_address():
    with pytest.raises(ExpressionError, match="0x30000000"):
        run(op(ADDR, struct.pack("<I", 0x30000000)), op(DEREF), memory=MEMORY)


def test_deref_without_memory_is_an_error():
    with pytest.raises(ExpressionError, match="no memory"):
        run(lit(0), op(DEREF))


# -- evaluate and locate ---------------------------------------------------------------------


def test_evaluate_starts_from_the_initial_stack():
    # CFI expressions get the CFA pushed first (DWARF 5 6.4.1, DW_CFA_expression).
    assert evaluate(lit(8) + op(MINUS), initial=[0x20000100]) == 0x200000F8


def test_evaluate_refuses_an_expression_that_names_a_location():
    with pytest.raises(ExpressionError, match="describes a location"):
        evaluate(op(REG0))


def test_evaluate_of_an_empty_stack_is_an_error():
    with pytest.raises(ExpressionError, match="nothing on the stack"):
        evaluate(b"")


def test_locate_turns_the_top_of_the_stack_into_a_memory_address():
    assert locate(op(FBREG, sleb(-4)), Context(frame_base=lambda: 0x100)) == InMemory(0xFC)


def test_locate_of_an_empty_expression_is_optimized_out():
    # DWARF 5 2.6.1.1.1: an empty location description means the object is not present.
    assert locate(b"", Context()) == OptimizedOut()


def test_stack_value_makes_the_value_implicit():
    assert locate(lit(5) + op(STACK_VALUE), Context()) == Implicit(b"\x05\x00\x00\x00")


def test_implicit_value_carries_its_bytes():
    block = b"\x00\x00\x80\x3f"  # 1.0f

    assert locate(op(IMPLICIT_VALUE, uleb(4), block), Context()) == Implicit(block)


def test_implicit_pointer_names_a_die_and_an_offset():
    expression = op(IMPLICIT_POINTER, struct.pack("<I", 0x1234), sleb(-4))

    assert locate(expression, Context()) == ImplicitPointer(0x1234, -4)


def test_gnu_implicit_pointer_is_read_like_the_dwarf_5_operation():
    expression = op(GNU_IMPLICIT_POINTER, struct.pack("<I", 0x1234), sleb(8))

    assert locate(expression, Context()) == ImplicitPointer(0x1234, 8)


# -- composite locations (2.6.1.2) ------------------------------------------------------------


def test_pieces_combine_register_memory_and_optimized_out_parts():
    # A 10-byte struct: 4 bytes in r0, 4 bytes gone (an empty piece), 2 bytes on the stack.
    expression = (
        op(REG0)
        + op(PIECE, uleb(4))
        + op(PIECE, uleb(4))
        + op(BREG0 + 13, sleb(8))
        + op(PIECE, uleb(2))
    )

    located = locate(expression, Context(registers={13: 0x20000100}))

    assert located == Pieces(
        (
            Piece(InRegister(0), 32),
            Piece(OptimizedOut(), 32),
            Piece(InMemory(0x20000108), 16),
        )
    )


def test_a_piece_of_an_implicit_value():
    expression = lit(7) + op(STACK_VALUE) + op(PIECE, uleb(2)) + op(REG0 + 1) + op(PIECE, uleb(2))

    assert locate(expression, Context()) == Pieces(
        (Piece(Implicit(b"\x07\x00\x00\x00"), 16), Piece(InRegister(1), 16))
    )


def test_bit_piece_has_a_size_and_an_offset_in_bits():
    expression = op(REG0 + 1) + op(BIT_PIECE, uleb(8), uleb(16))

    assert locate(expression, Context()) == Pieces((Piece(InRegister(1), 8, 16),))


# -- entry values and typed operations (2.5.1.7, 2.5.1.6) -----------------------------------


def test_entry_value_asks_the_context_for_the_value_at_function_entry():
    asked = []

    def resolver(block: bytes) -> int:
        asked.append(block)
        return 0x55

    expression = op(ENTRY_VALUE, uleb(1), op(REG0)) + op(STACK_VALUE)

    assert locate(expression, Context(entry_value=resolver)) == Implicit(b"\x55\x00\x00\x00")
    assert asked == [op(REG0)]


def test_the_gnu_entry_value_is_the_same_operation():
    value = run(op(GNU_ENTRY_VALUE, uleb(1), op(REG0 + 1)), entry_value=lambda block: 9)

    assert value == 9


def test_entry_value_without_caller_information_is_an_error():
    with pytest.raises(ExpressionError, match="entry value"):
        run(op(ENTRY_VALUE, uleb(1), op(REG0)))


def test_regval_type_pushes_the_register_value():
    assert run(op(REGVAL_TYPE, uleb(2), uleb(0x40)), registers={2: 0xABCD}) == 0xABCD


def test_const_type_pushes_a_constant_of_the_given_size():
    expression = op(CONST_TYPE, uleb(0x40), b"\x04", b"\x78\x56\x34\x12")

    assert run(expression) == 0x12345678


def test_convert_keeps_the_bits_of_a_32_bit_value():
    # The base type is a DIE offset the evaluator cannot see: it keeps the value as is.
    # (A conversion to an 8-bit type would truncate in GDB; GCC uses that pattern to
    # zero-extend sub-word arguments, which this evaluator does not reproduce.)
    assert run(const(-2), op(CONVERT, uleb(0x40))) == 0xFFFFFFFE


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", [PLUS, MINUS, EQ, DIV])
def test_a_binary_operation_on_one_entry_is_an_underflow(operation):
    with pytest.raises(ExpressionError, match="underflow"):
        run(lit(1), op(operation))


def test_deref_on_an_empty_stack_is_an_underflow():
    with pytest.raises(ExpressionError, match="underflow"):
        run(op(DEREF), memory=MEMORY)


@pytest.mark.parametrize(
    "ops", [(op(DUP),), (op(DROP),), (lit(1), op(OVER)), (lit(1), op(SWAP)), (lit(1), op(ROT))]
)
def test_stack_manipulation_on_a_short_stack_is_an_underflow(ops):
    with pytest.raises(ExpressionError, match="underflow"):
        run(*ops)


@pytest.mark.parametrize("opcode", [0x98, 0xE0, 0x02, 0xFF])
def test_an_unsupported_operation_is_named(opcode):
    # call2, GNU_push_tls_address, a reserved code, and hi_user.
    with pytest.raises(ExpressionError, match=f"unsupported DWARF operation 0x{opcode:02x}"):
        run(bytes([opcode]))

"""Sizes, offsets and bounds in a form that holds no number (DWARF 5 7.5.5: a damaged
abbreviation, or an expression computed at run time) are unknown, never a TypeError
from the arithmetic on them (issue 12's fuzzing: the Zephyr thread walk reads types)."""

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die
from symbolicator.variables.types import (
    AT_BIT_SIZE,
    AT_BYTE_SIZE,
    AT_COUNT,
    AT_DATA_BIT_OFFSET,
    AT_DATA_MEMBER_LOCATION,
    AT_UPPER_BOUND,
    TAG_ARRAY,
    TAG_MEMBER,
    TAG_STRUCT,
    TAG_SUBRANGE,
    TypeReader,
    _array,
    _member,
    _record,
)

EXPRESSION = (c.FORM_EXPRLOC, b"\x91\x00")  # DW_OP_fbreg 0
TEXT = (c.FORM_STRING, "x")


def die(tag: int, attributes: dict, children=()) -> Die:
    found = Die(0x40, tag, attributes, None)
    found.children = list(children)
    return found


def test_a_member_whose_offsets_are_not_numbers_sits_at_offset_zero():
    member = _member(
        TypeReader(None),
        die(TAG_MEMBER, {AT_DATA_MEMBER_LOCATION: EXPRESSION, AT_DATA_BIT_OFFSET: TEXT}),
    )
    assert (member.offset, member.bit_size, member.bit_offset) == (0, None, 0)


def test_a_bit_size_that_is_not_a_number_is_no_bitfield():
    member = _member(TypeReader(None), die(TAG_MEMBER, {AT_BIT_SIZE: EXPRESSION}))
    assert member.bit_size is None


def test_a_record_size_that_is_not_a_number_is_zero():
    record = _record("struct")(TypeReader(None), die(TAG_STRUCT, {AT_BYTE_SIZE: TEXT}))
    assert record.byte_size == 0


def test_array_bounds_that_are_not_numbers_are_unknown():
    subranges = [
        die(TAG_SUBRANGE, {AT_COUNT: EXPRESSION}),
        die(TAG_SUBRANGE, {AT_UPPER_BOUND: TEXT}),
        die(TAG_SUBRANGE, {AT_COUNT: (c.FORM_DATA1, 3)}),
    ]
    array = _array(TypeReader(None), die(TAG_ARRAY, {}, subranges))
    assert array.dimensions == [None, None, 3]
    assert array.byte_size == 0

"""LEB128 numbers, on the examples of DWARF 5 section 7.6, tables 7.8 and 7.9."""

from __future__ import annotations

import pytest

from symbolicator.leb128 import Leb128Error, next_sleb, next_uleb, read_sleb, read_uleb

UNSIGNED = [
    (2, b"\x02"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (129, b"\x81\x01"),
    (12857, b"\xb9\x64"),
]
SIGNED = [(2, b"\x02"), (-2, b"\x7e"), (127, b"\xff\x00"), (-127, b"\x81\x7f"), (-128, b"\x80\x7f")]


def test_it_reads_the_specs_unsigned_examples_at_an_offset_and_from_a_stream():
    for value, encoded in UNSIGNED:
        assert read_uleb(b"\xaa" + encoded, 1) == (value, 1 + len(encoded))
        stream = iter(encoded + b"\x05")
        assert next_uleb(stream) == value
        assert next(stream) == 5  # left just after the number


def test_it_reads_the_specs_signed_examples_at_an_offset_and_from_a_stream():
    for value, encoded in SIGNED:
        assert read_sleb(b"\xaa" + encoded, 1) == (value, 1 + len(encoded))
        stream = iter(encoded + b"\x05")
        assert next_sleb(stream) == value
        assert next(stream) == 5


def test_a_number_cut_off_by_the_end_of_its_data_is_a_leb128_error():
    """Found by fuzzing (issue 12): IndexError escaped from the middle of a number."""
    with pytest.raises(Leb128Error, match="at offset 1 runs past the end"):
        read_uleb(b"\x00\x80\x80", 1)
    with pytest.raises(Leb128Error, match="at offset 3 runs past the end"):
        read_uleb(b"\x00\x80\x80", 3)
    with pytest.raises(Leb128Error, match="runs past the end"):
        read_sleb(b"\xff", 0)


def test_a_number_wider_than_64_bits_is_refused_before_it_grows():
    """A run of 0xff bytes would otherwise build one ever larger integer, in time
    that grows with the square of its length."""
    with pytest.raises(Leb128Error, match="does not fit 64 bits"):
        read_uleb(b"\xff" * 100_000 + b"\x01", 0)
    with pytest.raises(Leb128Error, match="does not fit 64 bits"):
        read_sleb(b"\xff" * 100_000 + b"\x01", 0)
    with pytest.raises(Leb128Error, match="does not fit 64 bits"):
        next_uleb(iter(b"\xff" * 100_000))


def test_padding_of_any_length_is_read_as_the_number_it_pads():
    assert read_uleb(b"\x81" + b"\x80" * 20 + b"\x00", 0) == (1, 22)
    assert read_uleb(b"\xff" * 9 + b"\x01", 0) == (2**64 - 1, 10)

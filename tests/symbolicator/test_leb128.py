"""LEB128 numbers, on the examples of DWARF 5 section 7.6, tables 7.8 and 7.9."""

from __future__ import annotations

from symbolicator.leb128 import next_sleb, next_uleb, read_sleb, read_uleb

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

"""LEB128 and ZigZag varints (reference §2.1, §2.2)."""

import pytest

from dre.ingest.wire import (
    VarintError,
    decode_svarint,
    decode_uvarint,
    encode_svarint,
    encode_uvarint,
)


def test_it_decodes_a_one_byte_varint_and_returns_the_next_offset():
    assert decode_uvarint(b"\x48\x54\x02", 1) == (0x54, 2)


def test_it_decodes_a_multi_byte_varint():
    """`b6 8c 01` is the run of 8987 zero bytes in the SDK's RLE data-source test (ZigZag'd)."""
    assert decode_uvarint(bytes([182, 140, 1])) == (17974, 3)
    assert decode_svarint(bytes([182, 140, 1])) == (8987, 3)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16383, 16384, 0xFFFF_FFFF])
def test_it_round_trips_unsigned_32_bit_values(value):
    encoded = encode_uvarint(value)
    assert decode_uvarint(encoded) == (value, len(encoded))


@pytest.mark.parametrize(("value", "zigzag"), [(0, 0), (-1, 1), (1, 2), (-2, 3), (-12, 23)])
def test_it_maps_signed_values_with_zigzag_like_the_sdk(value, zigzag):
    assert encode_svarint(value) == encode_uvarint(zigzag)
    assert decode_svarint(encode_uvarint(zigzag)) == (value, 1)


def test_it_rejects_a_truncated_varint():
    with pytest.raises(VarintError, match="truncated after 2 bytes"):
        decode_uvarint(b"\x80\x80")


def test_it_rejects_a_varint_at_the_end_of_the_data():
    with pytest.raises(VarintError, match="truncated after 0 bytes"):
        decode_uvarint(b"\x48", 1)


def test_it_rejects_a_varint_longer_than_five_bytes():
    with pytest.raises(VarintError, match="longer than 5 bytes"):
        decode_uvarint(b"\xff\xff\xff\xff\xff\x01")


def test_it_rejects_a_varint_beyond_32_bits():
    with pytest.raises(VarintError, match="32 bits"):
        decode_uvarint(b"\xff\xff\xff\xff\x1f")


def test_it_rejects_an_overlong_encoding():
    """The SDK's encoder never ends a varint with a zero group: `80 00` is a corrupt 0."""
    with pytest.raises(VarintError, match="overlong"):
        decode_uvarint(b"\x80\x00")


def test_it_refuses_to_encode_values_outside_32_bits():
    with pytest.raises(ValueError, match="32-bit"):
        encode_uvarint(1 << 32)

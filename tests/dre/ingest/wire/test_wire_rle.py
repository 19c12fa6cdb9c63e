"""RLE of message payloads (reference §2.1). Vectors from the SDK's unit tests
`tests/unit/src/test_memfault_rle.cpp` and `test_memfault_data_source_rle.cpp`."""

import pytest

from dre.ingest.wire import RleError, RleExpansionLimit, VarintError, rle_decode, rle_encode

SDK_VECTORS = {
    "quick transitions": (
        [1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8],
        [0x17, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8],
    ),
    "2 and 3 byte runs": (
        [1, 2, 2, 3, 4, 4, 4, 5, 6, 6, 6, 7, 7, 8, 8],
        [0x07, 1, 2, 2, 3, 0x06, 4, 0x01, 5, 0x06, 6, 0x04, 7, 0x04, 8],
    ),
    "single byte": ([1], [0x01, 0x01]),
    "long repeat": ([0xEF] * 4096, [0x80, 0x40, 0xEF]),
    "ends with a repeat": ([1, 2, 3, 3, 3, 3], [0x03, 1, 2, 0x08, 3]),
    "ends with a literal": (
        [1, 2, 3, 3, 3, 3, 5, 6, 7],
        [0x03, 1, 2, 0x08, 3, 0x05, 5, 6, 7],
    ),
    "trailing zeros": (
        [1, 2, 3, 3, 3, 3, 5, 6, 7] + [0] * 391,
        [0x03, 1, 2, 0x08, 3, 0x05, 5, 6, 7, 0x8E, 0x06, 0],
    ),
    "data source ends with a repeat": (
        [1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 6, 9, 9, 9, 9],
        [4, 1, 5, 2, 3, 4, 10, 5, 1, 6, 8, 9],
    ),
    "multi-byte varint": (
        [1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 6, 7] + [0] * 8987 + [8],
        [4, 1, 5, 2, 3, 4, 10, 5, 3, 6, 7, 182, 140, 1, 0, 1, 8],
    ),
}


@pytest.mark.parametrize(("plain", "encoded"), SDK_VECTORS.values(), ids=SDK_VECTORS.keys())
def test_it_encodes_like_the_sdk(plain, encoded):
    assert rle_encode(bytes(plain)) == bytes(encoded)


@pytest.mark.parametrize(("plain", "encoded"), SDK_VECTORS.values(), ids=SDK_VECTORS.keys())
def test_it_decodes_the_sdk_vectors(plain, encoded):
    assert rle_decode(bytes(encoded), max_output=len(plain)) == bytes(plain)


def test_it_decodes_nothing_to_nothing():
    assert rle_decode(b"", max_output=0) == b""
    assert rle_encode(b"") == b""


def test_it_refuses_to_expand_beyond_max_output():
    """Five bytes claim a run of 2**31 - 1 bytes; decoding must stop at the caller's limit."""
    bomb = b"\x01\x00" + b"\xfe\xff\xff\xff\x0f\x00"
    with pytest.raises(RleExpansionLimit, match="limit of 1024 bytes") as excinfo:
        rle_decode(bomb, max_output=1024)
    assert excinfo.value.limit == 1024


def test_it_accepts_output_exactly_at_the_limit():
    assert rle_decode(b"\x80\x40\xef", max_output=4096) == b"\xef" * 4096
    with pytest.raises(RleExpansionLimit):
        rle_decode(b"\x80\x40\xef", max_output=4095)


def test_it_rejects_a_repeat_record_without_its_byte():
    with pytest.raises(RleError, match="offset 2 is truncated"):
        rle_decode(b"\x01\x01\x06", max_output=100)


def test_it_rejects_a_literal_record_cut_short():
    with pytest.raises(RleError, match="offset 0 is truncated"):
        rle_decode(b"\x07\x01\x02", max_output=100)


def test_it_rejects_a_zero_length_record():
    with pytest.raises(RleError, match="zero length"):
        rle_decode(b"\x00\x05", max_output=100)


def test_it_rejects_a_truncated_record_length():
    with pytest.raises(VarintError, match="truncated"):
        rle_decode(b"\x01\x01\x80", max_output=100)


def test_it_round_trips_mixed_data():
    data = bytes(range(50)) + b"\0" * 300 + b"ab" * 40 + b"\xff\xff" + b"x"
    assert rle_decode(rle_encode(data), max_output=len(data)) == data

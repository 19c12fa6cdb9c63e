"""CRC-16/XMODEM (reference §2.2)."""

from pathlib import Path

from dre.ingest.wire import crc16_xmodem

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"


def test_it_matches_the_xmodem_check_value():
    assert crc16_xmodem(b"123456789") == 0x31C3


def test_it_is_zero_for_no_data():
    assert crc16_xmodem(b"") == 0


def test_it_computes_the_crc_of_memfault_test_pattern_message():
    """The single-chunk vector ends in `31 e4`: 0xE431 little-endian over the 84-byte message."""
    chunk = (FIXTURES / "chunk_v2_single_chunk_msg.bin").read_bytes()
    assert crc16_xmodem(chunk[1:-2]) == 0xE431 == int.from_bytes(chunk[-2:], "little")


def test_it_continues_a_crc_across_parts():
    data = bytes(range(256)) * 3
    assert crc16_xmodem(data[100:], crc16_xmodem(data[:100])) == crc16_xmodem(data)

"""The one memory reader: captured regions first, the ELF's read-only sections second."""

import pytest

from symbolicator import UnreadableMemory
from symbolicator.memory import SOURCE_COREDUMP, SOURCE_ELF, Memory, Span


def memory():
    captured = [
        Span(0x20000000, b"\x01\x02\x03\x04", SOURCE_COREDUMP),
        Span(0x20000004, b"\x05\x06", SOURCE_COREDUMP),
    ]
    return Memory(captured, [Span(0x1000, b"\xaa\xbb\xcc\xdd", SOURCE_ELF)])


def test_it_stitches_reads_across_neighbouring_regions():
    assert memory().read(0x20000002, 4) == b"\x03\x04\x05\x06"


def test_it_reads_code_from_the_elf_when_the_device_did_not_capture_it():
    assert memory().read_u32(0x1000) == 0xDDCCBBAA
    assert memory().source_of(0x1000) == SOURCE_ELF


def test_it_refuses_to_invent_bytes_that_were_not_captured():
    with pytest.raises(UnreadableMemory, match="0x20000004"):
        memory().read(0x20000004, 4)
    assert not memory().can_read(0x30000000)


def test_captured_memory_wins_over_the_elf_where_both_cover_an_address():
    mixed = Memory(
        [Span(0x1000, b"\x00\x00", SOURCE_COREDUMP)], [Span(0x1000, b"\xff" * 4, SOURCE_ELF)]
    )

    assert mixed.read(0x1000, 2) == b"\x00\x00"
    assert mixed.read(0x1002, 2) == b"\xff\xff"


def test_overlapping_captures_keep_the_region_that_starts_first():
    overlapping = Memory(
        [Span(0x10, b"AAAA", SOURCE_COREDUMP), Span(0x12, b"BBBB", SOURCE_COREDUMP)]
    )

    assert overlapping.read(0x10, 6) == b"AAAABB"

"""Chunks exported on a device console as `MC:<base64>:` (reference §2.2, "Text export")."""

from pathlib import Path

import pytest

from dre.ingest.wire import ChunkError, chunks_from_console, console_line

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "memfault-chunks"


def test_it_extracts_memfault_exported_chunks_from_a_device_log():
    text = (FIXTURES / "test-pattern-data-export.txt").read_text()
    assert chunks_from_console(text) == [
        (FIXTURES / "chunk_v2_chunk_msg_pt1_of_2.bin").read_bytes(),
        (FIXTURES / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes(),
    ]


def test_it_finds_nothing_in_a_log_without_exports():
    assert chunks_from_console("[00:00:01] INFO: System Booting!\nMC::\n") == []


def test_it_formats_a_chunk_as_the_sdk_prints_it():
    chunk = (FIXTURES / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes()
    line = console_line(chunk)
    assert line == "MC:gCx0Bm10ZXN0LWhhcmR3YXJlBKEBoXJjaHVua190ZXN0X3N1Y2Nlc3MBMeQ=:"
    assert chunks_from_console(f"[00:00:30] INFO: {line}") == [chunk]


def test_it_rejects_an_export_line_that_is_not_valid_base64():
    with pytest.raises(ChunkError, match="exported chunk at character 6"):
        chunks_from_console("INFO: MC:SFQCpw=:")

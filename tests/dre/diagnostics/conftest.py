"""Posting SDK messages through the chunk endpoint, as a device does, and the test ELF
(tests/fixtures/trace-events: firmware.c, its build.sh and readelf.txt)."""

from pathlib import Path

import cbor2
import pytest

from dre import blobs
from dre.diagnostics.resolution import build_facts_cache_clear
from dre.ingest import wire
from dre.symbols.services import symbol_file_ingest
from symbolicator import ElfImage

DAY_START = 1_764_806_400  # 2025-12-04 00:00:00 UTC
FIXTURE = Path(__file__).parents[2] / "fixtures" / "trace-events"
ELF = (FIXTURE / "firmware.elf").read_bytes()
BUILD_ID = ElfImage(ELF).build_id
# Addresses in firmware.elf (readelf.txt): sensor_poll 0x400, app_loop 0x418 (calls
# sensor_poll at 0x420, returns to 0x424), Reset_Handler 0x438.
SENSOR_POLL_PC = 0x40A
APP_LOOP_LR = 0x425
# log_fmt offsets of firmware.c's entries.
FMT_TRACE, FMT_METRIC, FMT_SENSOR, FMT_TEMP, FMT_BOOT = 0x08, 0x68, 0xAC, 0xF0, 0x118


@pytest.fixture(autouse=True)
def _fresh_build_facts():
    build_facts_cache_clear()


@pytest.fixture
def send(client, project_key, django_capture_on_commit_callbacks):
    """POST one message as chunks, running what the request queued on commit."""

    def post(*events, serial="dev-1", message_type=wire.MessageType.EVENT):
        payload = cbor2.dumps(events[0] if len(events) == 1 else list(events))
        message = wire.encode_message(message_type, payload)
        for chunk in wire.encode_chunks(message, chunk_size=64):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    f"/api/v0/chunks/{serial}",
                    chunk,
                    content_type="application/octet-stream",
                    headers={"Memfault-Project-Key": project_key},
                )
            assert response.status_code == 202, response.content

    return post


@pytest.fixture
def upload_elf(project, run_on_commit):
    def upload(**versions):
        stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), ELF)
        return run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf", **versions)

    return upload


def trace_event_info(reason: int, *, pc=None, lr=None, status=None, log=None, compact=None):
    """A trace event body (memfault-formats.md §2.5.3): key 6 user reason, 2 PC, 3 LR,
    7 status code, 8 preformatted log, 9 compact log."""
    info = {6: reason}
    for key, value in ((2, pc), (3, lr), (7, status), (8, log), (9, compact)):
        if value is not None:
            info[key] = value
    return info

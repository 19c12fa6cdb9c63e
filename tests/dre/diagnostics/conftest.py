"""The test ELF of diagnostics (tests/fixtures/trace-events: firmware.c, its build.sh and
readelf.txt); messages are sent with the `send` fixture of tests/dre/conftest.py."""

from pathlib import Path

import pytest

from dre import blobs
from dre.diagnostics.resolution import build_facts_cache_clear
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

"""Indexing a symbol file in the worker: a corrupt ELF is recorded as failed, with why; a
good one is stored as an index that reads its DWARF from the ELF."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dre import blobs
from dre.crashes.models import Coredump
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.services import (
    symbol_file_ingest,
    symbol_file_reprocess,
    symbol_files_requeue_stuck,
)
from symbolicator import SymbolIndex, build_index
from tests.dre.conftest import send_coredump, store_elf
from tests.firmware_fixtures import elf_path
from tests.symbolicator.test_index_build import corrupted

pytestmark = pytest.mark.django_db


def test_an_elf_whose_dwarf_cannot_be_decoded_is_failed_with_the_reason(project, run_on_commit):
    data = corrupted(".debug_abbrev", 0x00)  # the header and build id are still fine
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)

    symbol_file = run_on_commit(symbol_file_ingest, project, stored, name="broken.elf")
    symbol_file.refresh_from_db()

    assert symbol_file.state == SymbolFile.State.FAILED
    assert symbol_file.error.startswith("indexing failed: malformed .debug_info: abbreviation")
    assert blobs.blob_read(symbol_file.blob) == data  # the upload itself is kept


def test_an_error_escaping_indexing_is_retried_then_fails_with_its_traceback(
    project, run_on_commit, monkeypatch
):
    def explode(data):
        raise MemoryError("index too large")

    monkeypatch.setattr("dre.symbols.services.build_index", explode)
    symbol_file = run_on_commit(store_elf, project)

    symbol_file.refresh_from_db()
    assert (symbol_file.state, symbol_file.attempts) == (SymbolFile.State.FAILED, 3)
    assert symbol_file.error == "failed 3 times; last error: MemoryError: index too large"
    assert "in explode" in symbol_file.traceback
    assert symbol_files_requeue_stuck(timezone.now() + timedelta(days=1)) == 0


def test_indexing_whose_worker_died_is_taken_over_after_the_lease(project, run_on_commit):
    symbol_file = store_elf(project)  # queued on commit, which never happens here
    SymbolFile.objects.filter(pk=symbol_file.pk).update(
        state=SymbolFile.State.INDEXING,
        attempts=1,
        lease_expires=timezone.now() - timedelta(seconds=1),
    )

    assert run_on_commit(symbol_files_requeue_stuck) == 1

    symbol_file.refresh_from_db()
    assert symbol_file.state == SymbolFile.State.READY


def test_a_failed_symbol_file_is_indexed_again_and_releases_its_waiting_crashes(
    project, run_on_commit, monkeypatch
):
    monkeypatch.setattr("dre.symbols.services.build_index", lambda data: 1 / 0)
    symbol_file = run_on_commit(store_elf, project)
    coredump = run_on_commit(send_coredump, project)
    monkeypatch.undo()

    run_on_commit(symbol_file_reprocess, symbol_file)

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED


def test_an_upload_while_the_broker_is_down_is_kept_and_indexed_at_the_next_sweep(
    project, run_on_commit, monkeypatch
):
    from kombu.exceptions import OperationalError

    from dre.symbols.tasks import index_symbol_file

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(index_symbol_file, "delay", refuse)
    symbol_file = run_on_commit(store_elf, project)
    symbol_file.refresh_from_db()
    assert (symbol_file.state, symbol_file.queued) == (SymbolFile.State.RECEIVED, None)
    monkeypatch.undo()

    assert run_on_commit(symbol_files_requeue_stuck, timezone.now() + timedelta(seconds=10)) == 1

    symbol_file.refresh_from_db()
    assert symbol_file.state == SymbolFile.State.READY


def test_the_stored_index_reads_its_dwarf_from_the_elf_kept_next_to_it(project, run_on_commit):
    data = elf_path("an385-O2").read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)

    symbol_file = run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")
    symbol_file.refresh_from_db()
    index = symbol_index_load(symbol_file)

    assert symbol_file.state == SymbolFile.State.READY
    assert SymbolIndex.needs_elf(blobs.blob_read(symbol_file.index_blob))
    assert bytes(index.dwarf["info"]) == build_index(data).dwarf["info"]


def test_an_index_stored_by_an_older_dre_is_rebuilt_from_its_elf_when_a_crash_needs_it(
    project, run_on_commit, monkeypatch
):
    data = elf_path("an385-O2").read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)
    symbol_file = run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")
    symbol_file.refresh_from_db()
    old_blob = symbol_file.index_blob
    monkeypatch.setattr("symbolicator.index.READABLE_FORMATS", ())  # as if written by an older dre

    index = symbol_index_load(symbol_file)

    monkeypatch.undo()
    symbol_file.refresh_from_db()
    assert symbol_file.index_blob != old_blob
    assert SymbolIndex.is_readable(blobs.blob_read(symbol_file.index_blob))
    assert bytes(index.dwarf["info"]) == build_index(data).dwarf["info"]

"""Indexing a symbol file in the worker: a corrupt ELF is recorded as failed, with why; a
good one is stored as an index that reads its DWARF from the ELF."""

import pytest

from dre import blobs
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.services import symbol_file_ingest
from symbolicator import SymbolIndex, build_index
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


def test_the_stored_index_reads_its_dwarf_from_the_elf_kept_next_to_it(project, run_on_commit):
    data = elf_path("an385-O2").read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)

    symbol_file = run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")
    symbol_file.refresh_from_db()
    index = symbol_index_load(symbol_file)

    assert symbol_file.state == SymbolFile.State.READY
    assert SymbolIndex.needs_elf(blobs.blob_read(symbol_file.index_blob))
    assert bytes(index.dwarf["info"]) == build_index(data).dwarf["info"]

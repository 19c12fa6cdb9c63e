"""Fixtures for the Django side: real ELFs and coredumps from the test firmware."""

import pytest

from dre import blobs
from dre.crashes.models import Coredump
from dre.crashes.services import coredump_ingest_bytes
from dre.symbols.services import symbol_file_ingest
from tests.firmware_fixtures import coredump_path, elf_path


def store_elf(project, build="an385-O0", **versions):
    data = elf_path(build).read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)
    return symbol_file_ingest(project, stored, name=f"{build}.elf", **versions)


def send_coredump(project, build="an385-O0", scenario="null_write", **kwargs):
    data = coredump_path(build, scenario).read_bytes()
    kwargs.setdefault("source", Coredump.Source.UPLOAD)
    return coredump_ingest_bytes(project, data, **kwargs)


@pytest.fixture
def symbol_file(project, run_on_commit):
    return run_on_commit(store_elf, project)

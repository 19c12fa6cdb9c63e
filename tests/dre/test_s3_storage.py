"""Blobs in S3 (the s3 extra: django-storages and boto3) against a real S3 API server,
moto's, on a free port: every kind of blob is written there and read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dre import blobs
from dre.crashes.models import Coredump
from dre.crashes.services import coredump_bytes
from dre.fleet.services import device_seen
from dre.symbols.models import SymbolFile
from dre.symbols.services import symbol_file_ingest
from symbolicator import SymbolIndex
from tests.dre.conftest import send_coredump
from tests.firmware_fixtures import coredump_path, elf_path

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_bucket):
    """Reads a key of the test's bucket (tests/dre/conftest.py's s3_bucket)."""
    client, name = s3_bucket
    return lambda key: client.get_object(Bucket=name, Key=key)["Body"].read()


def test_a_devices_coredump_is_stored_in_the_bucket_as_it_arrived(bucket, project):
    device = device_seen(project, "dev-1")
    coredump = send_coredump(project, device=device)

    assert bucket(coredump.blob) == coredump_path().read_bytes()
    assert blobs.blob_read(coredump.blob) == coredump_path().read_bytes()


def test_a_small_upload_naming_no_device_is_kept_in_its_row_not_the_bucket(bucket, project):
    # Group commit writes such uploads with their bytes (README, "How a crash flows").
    coredump = send_coredump(project)

    assert coredump.blob == ""
    assert coredump_bytes(Coredump.objects.get(pk=coredump.pk)) == coredump_path().read_bytes()


def test_an_uploaded_symbol_file_and_its_index_live_in_the_bucket(bucket, project, run_on_commit):
    data = elf_path().read_bytes()
    with elf_path().open("rb") as upload:  # streamed, as the API's upload is
        stored = blobs.blob_save_stream(blobs.blob_name("symbols", project.pk, ".elf"), upload,
                                        limit=len(data))  # fmt: skip

    symbol_file = run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")

    symbol_file.refresh_from_db()
    assert symbol_file.state == SymbolFile.State.READY
    assert bucket(symbol_file.blob) == data
    index = SymbolIndex.from_bytes(bucket(symbol_file.index_blob), bucket(symbol_file.blob))
    assert index.dwarf


def test_a_crash_is_symbolicated_from_blobs_read_back_from_the_bucket(
    bucket, project, run_on_commit
):
    data = elf_path().read_bytes()
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)
    run_on_commit(symbol_file_ingest, project, stored, name="firmware.elf")

    coredump = run_on_commit(send_coredump, project)

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED
    assert coredump.trace.data["threads"][0]["frames"][0]["function"] == "record_word_store"


def test_the_settings_read_the_bucket_from_the_environment():
    env = {
        **os.environ,
        "DEBUG": "true",
        "BLOB_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
        "BLOB_S3_BUCKET": "crashes",
        "BLOB_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "BLOB_S3_PREFIX": "dre",
    }
    show = "from django.core.files.storage import default_storage as s; " \
           "print(s.bucket_name, s.endpoint_url, s.location)"  # fmt: skip

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.stdout.split() == ["crashes", "http://127.0.0.1:9000", "dre"], done.stderr

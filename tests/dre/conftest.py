"""Fixtures for the Django side: real ELFs and coredumps from the test firmware."""

import uuid

import pytest

from dre import blobs
from dre.crashes.models import Coredump
from dre.crashes.services import coredump_ingest_bytes
from dre.ingest import wire
from dre.symbols.services import symbol_file_ingest
from tests.builders import event_chunks
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


@pytest.fixture
def post_chunks(client, project_key, django_capture_on_commit_callbacks):
    """POST chunks to the chunk endpoint one request each, in order, as a device does,
    running what each request queued on commit."""

    def post(chunks, serial="dev-1"):
        for chunk in chunks:
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
def send(post_chunks):
    """POST SDK events (or logs, or a recording: `message_type`) as one message cut into
    chunks, as a device does."""

    def send(*events, serial="dev-1", message_type=wire.MessageType.EVENT):
        post_chunks(event_chunks(*events, message_type=message_type), serial=serial)

    return send


S3_CREDENTIALS = {"access_key": "dre-test", "secret_key": "dre-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API (moto's server mode) for the `s3` extra's tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(settings, s3_endpoint):
    """A new bucket per test, and dre's blob storage pointed at it as settings.py does;
    the boto3 client and the bucket's name, to look inside it."""
    import boto3

    name = f"dre-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=name)
    options = {"bucket_name": name, "endpoint_url": s3_endpoint, "region_name": "us-east-1"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": settings.S3_STORAGE_BACKEND, "OPTIONS": options | S3_CREDENTIALS},
    }
    return client, name

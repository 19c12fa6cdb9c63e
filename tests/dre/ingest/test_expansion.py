"""RLE amplification (memfault-formats.md 2.1): a few bytes on the wire can claim
megabytes. Coredumps are stored as sent, expanded by the worker, and what requests
and devices may expand is bounded."""

import os

import pytest

from dre.crashes.models import Coredump
from dre.ingest import wire
from dre.ingest.models import DeviceMessage
from tests.builders import minimal_coredump
from tests.dre.conftest import store_elf
from tests.dre.ingest.test_chunks_endpoint import multipart, post_chunk
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def bomb(variant: int = 0, size: int = 4 * MiB) -> bytes:
    """One chunk whose RLE coredump expands to `size` bytes: a header, then one long run."""
    coredump = minimal_coredump(pc=0x100 + 2 * variant)
    # Encoded by hand: rle_encode of 4 MiB in Python would dominate the test's time.
    zeros = wire.encode_svarint(size - len(coredump)) + b"\0"
    message = bytes([wire.MessageType.COREDUMP | 0x80]) + wire.rle_encode(coredump) + zeros
    (chunk,) = wire.encode_chunks(message, chunk_size=len(message) + 16)
    return chunk


def stored_size(coredump: Coredump) -> int:
    from django.core.files.storage import default_storage

    return os.path.getsize(default_storage.path(coredump.blob))


def test_it_stores_an_rle_coredump_as_the_device_sent_it(client, project_key):
    chunk = bomb()
    assert len(chunk) < 200

    assert post_chunk(client, project_key, chunk).status_code == 202

    coredump = Coredump.objects.get()
    assert coredump.encoding == Coredump.Encoding.RLE
    assert coredump.expanded_size == 4 * MiB
    assert stored_size(coredump) < 200


def test_the_worker_expands_a_compact_coredump_and_symbolicates_it(
    client, project, project_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        store_elf(project)
    message = wire.encode_message(wire.MessageType.COREDUMP, coredump_path().read_bytes(), rle=True)
    body, content_type = multipart(*wire.encode_chunks(message, chunk_size=512))

    with django_capture_on_commit_callbacks(execute=True):
        post_chunk(client, project_key, body, content_type=content_type)

    coredump = Coredump.objects.get()
    assert coredump.state == Coredump.State.GROUPED
    assert coredump.size == len(message) - 1  # the type byte is not part of the coredump


def test_a_request_may_expand_only_its_budget(client, project_key, settings):
    body, content_type = multipart(*(bomb(i) for i in range(25)))
    assert len(body) < 10_000

    response = post_chunk(client, project_key, body, content_type=content_type)

    assert response.status_code == 413
    assert "MAX_EXPANDED_BYTES_PER_REQUEST=16777216" in response.json()["error"]["message"]
    assert Coredump.objects.count() == 4  # 4 x 4 MiB fit in 16 MiB
    refused = DeviceMessage.objects.filter(status=DeviceMessage.Status.REJECTED)
    assert refused.count() == 21
    assert all(message.raw for message in refused)  # the compact bytes are kept


def test_a_device_may_expand_only_its_daily_budget(client, project_key, settings):
    settings.MAX_EXPANDED_BYTES_PER_DEVICE_DAY = 8 * MiB

    answers = [post_chunk(client, project_key, bomb(i)).status_code for i in range(3)]

    assert answers == [202, 202, 413]
    error = DeviceMessage.objects.get(status=DeviceMessage.Status.REJECTED).error
    assert "the device's daily expansion budget" in error
    assert post_chunk(client, project_key, bomb(9), serial="other").status_code == 202


def test_plain_payloads_do_not_spend_the_expansion_budget(client, project_key, settings):
    settings.MAX_EXPANDED_BYTES_PER_REQUEST = 16
    message = wire.encode_message(wire.MessageType.COREDUMP, minimal_coredump())

    response = post_chunk(client, project_key, wire.encode_chunks(message, chunk_size=4096)[0])

    assert response.status_code == 202
    assert Coredump.objects.get().encoding == Coredump.Encoding.RAW

"""POST /api/v0/chunks/<serial>: Memfault's chunk endpoint (memfault-formats.md 2.2, 2.3)."""

import base64
from pathlib import Path

import pytest

from dre.crashes.models import Coredump
from dre.ingest import wire
from dre.ingest.models import ChunkStream, DeviceMessage, Event
from tests.builders import minimal_coredump

PATTERNS = Path(__file__).parents[2] / "fixtures" / "memfault-chunks"
SINGLE = (PATTERNS / "chunk_v2_single_chunk_msg.bin").read_bytes()
PART_1 = (PATTERNS / "chunk_v2_chunk_msg_pt1_of_2.bin").read_bytes()
PART_2 = (PATTERNS / "chunk_v2_chunk_msg_pt2_of_2.bin").read_bytes()

pytestmark = pytest.mark.django_db


def post_chunk(client, key, body, serial="TESTSERIAL", **headers):
    headers.setdefault("content_type", "application/octet-stream")
    return client.post(
        f"/api/v0/chunks/{serial}", body, headers={"Memfault-Project-Key": key}, **headers
    )


def multipart(*chunks: bytes, boundary="b0undary") -> tuple[bytes, str]:
    body = b""
    for i, chunk in enumerate(chunks):
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="chunk{i}"; '
                f'filename="chunk.bin{i}"\r\nContent-Type: application/octet-stream\r\n'
                f"Content-Length: {len(chunk)}\r\n\r\n"
            ).encode()
            + chunk
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/mixed; boundary={boundary}"


def test_it_accepts_memfault_single_chunk_test_pattern_as_one_heartbeat(client, project_key):
    response = post_chunk(client, project_key, SINGLE)

    assert response.status_code == 202
    event = Event.objects.get()
    assert event.kind == Event.Kind.HEARTBEAT
    assert event.data["info"]["metrics"] == {"chunk_test_success": 1}
    assert event.device.serial == "TESTSERIAL"
    assert str(event.software_version) == "test-software 1.0.0-test"
    assert str(event.hardware_version) == "test-hardware"


def test_it_reassembles_the_two_part_test_pattern_across_requests(client, project_key):
    assert post_chunk(client, project_key, PART_1).status_code == 202
    assert Event.objects.count() == 0
    assert ChunkStream.objects.get().total_length == 84

    assert post_chunk(client, project_key, PART_2).status_code == 202
    assert Event.objects.get().data["info"]["metrics"] == {"chunk_test_success": 1}
    assert ChunkStream.objects.get().total_length is None


def test_it_accepts_base64_bodies(client, project_key):
    response = post_chunk(
        client, project_key, base64.b64encode(SINGLE), HTTP_CONTENT_ENCODING="base64"
    )

    assert response.status_code == 202
    assert Event.objects.count() == 1


def test_it_accepts_many_chunks_in_one_multipart_mixed_request(client, project_key):
    body, content_type = multipart(PART_1, PART_2)
    response = post_chunk(client, project_key, body, content_type=content_type)

    assert response.status_code == 202
    assert Event.objects.count() == 1


def test_a_coredump_message_becomes_a_coredump_of_that_device(client, project_key):
    message = wire.encode_message(wire.MessageType.COREDUMP, minimal_coredump(), rle=True)
    chunks = wire.encode_chunks(message, chunk_size=64)
    body, content_type = multipart(*chunks)

    response = post_chunk(client, project_key, body, content_type=content_type, serial="dev-1")

    assert response.status_code == 202
    coredump = Coredump.objects.get()
    assert coredump.device.serial == "dev-1"
    assert coredump.source == Coredump.Source.CHUNKS
    assert DeviceMessage.objects.get().coredump == coredump


def test_a_wrong_or_missing_project_key_gets_403(client, project_key):
    assert post_chunk(client, "0" * 32, SINGLE).status_code == 403
    response = client.post(
        "/api/v0/chunks/TESTSERIAL", SINGLE, content_type="application/octet-stream"
    )
    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_another_projects_key_uploads_to_that_project_only(
    client, project_key, other_project_key, other_project
):
    post_chunk(client, other_project_key, SINGLE)

    assert Event.objects.get().project == other_project


def test_unsupported_content_types_get_415(client, project_key):
    assert (
        post_chunk(client, project_key, b"{}", content_type="application/json").status_code == 415
    )


def test_a_body_over_the_limit_gets_413(client, project_key, settings):
    settings.MAX_REQUEST_BYTES = 16
    settings.MAX_COREDUMP_BYTES = 16
    assert post_chunk(client, project_key, SINGLE).status_code == 413


def test_a_request_without_content_length_gets_411(rf, project_key):
    from dre.ingest.views import chunks

    request = rf.post(
        "/api/v0/chunks/TESTSERIAL",
        SINGLE,
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )
    del request.META["CONTENT_LENGTH"]
    assert chunks(request, "TESTSERIAL").status_code == 411


def test_a_device_over_its_rate_limit_gets_429_with_retry_after(client, project_key, settings):
    settings.DEVICE_RATE_LIMIT = "2/m"
    statuses = [post_chunk(client, project_key, SINGLE).status_code for _ in range(3)]

    assert statuses == [202, 202, 429]
    assert int(post_chunk(client, project_key, SINGLE)["Retry-After"]) > 0


def test_an_invalid_device_serial_gets_400(client, project_key):
    assert post_chunk(client, project_key, SINGLE, serial="bad%20serial").status_code == 400


def test_a_malformed_chunk_gets_400_and_its_bytes_are_kept(client, project_key):
    response = post_chunk(client, project_key, b"\x07garbage")

    assert response.status_code == 400
    assert "malformed chunk" in response.json()["error"]["message"]
    rejected = DeviceMessage.objects.get()
    assert rejected.status == DeviceMessage.Status.REJECTED
    assert bytes(rejected.raw) == b"\x07garbage"


def test_a_message_with_a_bad_crc_is_recorded_as_rejected(client, project_key):
    corrupted = SINGLE[:-1] + bytes([SINGLE[-1] ^ 0xFF])

    assert post_chunk(client, project_key, corrupted).status_code == 202
    rejected = DeviceMessage.objects.get()
    assert rejected.status == DeviceMessage.Status.REJECTED
    assert "bad_crc" in rejected.error
    assert Event.objects.count() == 0


def test_an_unknown_message_type_is_recorded_with_its_bytes(client, project_key):
    message = bytes([0x05]) + b"future"
    post_chunk(client, project_key, wire.encode_chunks(message)[0])

    rejected = DeviceMessage.objects.get()
    assert rejected.status == DeviceMessage.Status.REJECTED
    assert bytes(rejected.raw) == message


def test_a_coredump_message_that_is_not_a_coredump_is_rejected_with_its_bytes(client, project_key):
    message = wire.encode_message(wire.MessageType.COREDUMP, b"NOTACOREDUMP")
    post_chunk(client, project_key, wire.encode_chunks(message)[0])

    rejected = DeviceMessage.objects.get()
    assert rejected.kind == DeviceMessage.Kind.COREDUMP
    assert "not a coredump" in rejected.error
    assert Coredump.objects.count() == 0


def test_a_heartbeat_applied_in_the_request_costs_twelve_statements(
    client, project_key, django_assert_max_num_queries, run_on_commit
):
    # Applied in the request, as in a test's transaction or when the request must answer
    # what happened (a worker applies a deferred heartbeat with the same statements).
    # Ingest's seven: device, stream lock, the device's earlier pending chunks (applied
    # first, to keep arrival order), message, event, and the transaction around them;
    # the versions are remembered, the stream is left as it was, nothing RLE to budget.
    # Fleet health's five: the metric registry, the interval inserted under a savepoint
    # (a re-sent heartbeat is dropped by its unique key), and its day marked for rollup.
    assert run_on_commit(post_chunk, client, project_key, SINGLE).status_code == 202

    with django_assert_max_num_queries(12):
        assert post_chunk(client, project_key, SINGLE).status_code == 202

    assert Event.objects.count() == 2

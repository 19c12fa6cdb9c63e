"""Device requests outside a transaction, as under gunicorn: raw coredumps and
heartbeat chunks are written by group commit and queued once per group."""

import hashlib

import lz4.frame
import pytest

from dre import batching
from dre.batching import BatchPublisher
from dre.crashes import services as crash_services
from dre.crashes.models import Coredump
from dre.crashes.tasks import symbolicate_batch
from dre.ingest import services, wire
from dre.ingest.models import DeviceMessage, Event, PendingChunks
from dre.ingest.pending import pending_chunks_apply
from dre.ingest.tasks import chunks_apply
from tests.dre.ingest.test_chunks_endpoint import PART_1, SINGLE, post_chunk
from tests.firmware_fixtures import coredump_path

# No test transaction: the group commit writes on the request's own connection.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def published_by_hand(monkeypatch):
    """No publisher threads: each request publishes its group's ids when it returns,
    as the process's publisher thread would within PUBLISH_INTERVAL."""
    monkeypatch.setattr(batching, "_tasks_run_eagerly", lambda: True)


def upload(client, key, body):
    return client.post(
        "/api/v0/upload/coredump",
        body,
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": key},
    )


@pytest.fixture
def published(monkeypatch):
    """What the group commits hand to the broker, instead of running it."""
    sent = []
    monkeypatch.setattr(symbolicate_batch, "delay", lambda ids: sent.append(("coredumps", ids)))
    monkeypatch.setattr(chunks_apply, "delay", lambda ids: sent.append(("chunks", ids)))
    return sent


def broker_down(*args):
    raise ConnectionError("broker down")


def test_it_stores_a_small_raw_coredump_in_its_row_and_queues_it_as_a_batch(
    client, project_key, published
):
    data = coredump_path("an385-O0", "null_write").read_bytes()

    response = upload(client, project_key, data)

    assert response.status_code == 202
    coredump = Coredump.objects.get(pk=response.json()["data"]["id"])
    assert coredump.blob == ""
    assert crash_services.coredump_bytes(coredump) == data
    assert coredump.state == Coredump.State.RECEIVED
    assert coredump.queued is not None
    assert published == [("coredumps", [coredump.pk])]


def test_the_row_holds_the_bytes_lz4_compressed_and_their_size_and_md5_as_sent(
    client, project_key, published
):
    data = coredump_path("an385-O0", "null_write").read_bytes()

    coredump_id = upload(client, project_key, data).json()["data"]["id"]

    coredump = Coredump.objects.get(pk=coredump_id)
    assert coredump.encoding == Coredump.Encoding.LZ4
    assert lz4.frame.decompress(Coredump.objects.values_list("raw", flat=True).get()) == data
    assert (coredump.size, coredump.md5) == (len(data), hashlib.md5(data).hexdigest())


def test_a_large_coredump_is_still_stored_as_a_blob(client, project_key, published, settings):
    data = coredump_path("an385-O0", "null_write").read_bytes()
    settings.MAX_COREDUMP_BYTES = 4 * 1024 * 1024
    body = data + b"\0" * crash_services.INLINE_COREDUMP_BYTES

    response = upload(client, project_key, body)

    assert response.status_code == 202
    coredump = Coredump.objects.get()
    assert coredump.blob
    assert coredump.raw is None


def test_a_broker_outage_leaves_the_committed_coredumps_for_the_sweeper(
    client, project_key, monkeypatch
):
    monkeypatch.setattr(symbolicate_batch, "delay", broker_down)

    response = upload(client, project_key, coredump_path("an385-O0", "null_write").read_bytes())

    assert response.status_code == 202
    assert Coredump.objects.get().queued is None  # the sweeper's outbox mark


def test_a_heartbeat_is_appended_and_applied_by_the_worker(client, project_key, published):
    assert post_chunk(client, project_key, SINGLE).status_code == 202

    pending = PendingChunks.objects.get()
    assert pending.device_serial == "TESTSERIAL"
    assert pending.queued is not None
    assert Event.objects.count() == 0
    assert published == [("chunks", [pending.pk])]

    assert pending_chunks_apply([pending.pk]) == 1

    assert Event.objects.filter(device__serial="TESTSERIAL").count() == 1
    assert not PendingChunks.objects.exists()
    assert pending_chunks_apply([pending.pk]) == 0  # a re-delivered task


def test_a_devices_pending_chunks_are_applied_in_the_order_they_arrived(
    client, project_key, published
):
    for _ in range(3):
        assert post_chunk(client, project_key, SINGLE).status_code == 202
    first = PendingChunks.objects.order_by("pk").first()

    pending_chunks_apply([first.pk])  # the device's later rows go with it

    assert Event.objects.count() == 3
    assert DeviceMessage.objects.filter(status=DeviceMessage.Status.ACCEPTED).count() == 3


def test_chunks_the_request_may_have_to_refuse_are_applied_at_once(client, project_key, published):
    assert post_chunk(client, project_key, PART_1).status_code == 202  # a partial message
    assert post_chunk(client, project_key, b"\x07garbage").status_code == 400

    assert not PendingChunks.objects.exists()
    assert published == []


def test_events_that_do_not_decode_are_deferred_and_rejected_by_the_worker_as_at_once(
    client, project_key, published
):
    message = wire.encode_message(wire.MessageType.EVENT, b"\xff\xff not CBOR")
    (chunk,) = wire.encode_chunks(message, chunk_size=64)

    assert post_chunk(client, project_key, chunk).status_code == 202
    pending = PendingChunks.objects.get()
    assert pending_chunks_apply([pending.pk]) == 1

    rejected = DeviceMessage.objects.get()
    assert rejected.status == DeviceMessage.Status.REJECTED
    assert bytes(rejected.raw) == message
    assert not Event.objects.exists()


def test_the_sweeper_publishes_pending_chunks_the_broker_refused(
    client, project_key, monkeypatch, published
):
    monkeypatch.setattr(chunks_apply, "delay", broker_down)
    assert post_chunk(client, project_key, SINGLE).status_code == 202
    pending = PendingChunks.objects.get()
    assert pending.queued is None

    monkeypatch.setattr(chunks_apply, "delay", lambda ids: published.append(("chunks", ids)))
    later = pending.received + services.timedelta(seconds=30)
    assert services.pending_chunks_requeue_stuck(later) == 1

    assert published == [("chunks", [pending.pk])]
    assert PendingChunks.objects.get().queued == later


def test_chunks_apply_applies_what_the_sweeper_queued(client, project_key, published):
    post_chunk(client, project_key, SINGLE)

    chunks_apply([PendingChunks.objects.get().pk])

    assert Event.objects.count() == 1


def test_pending_chunks_frame_and_unframe_round_trip():
    chunks = [b"", b"a", bytes(range(256)) * 10]

    assert services.unframe(services.frame(chunks)) == chunks


def test_rows_a_dead_process_never_published_are_published_by_the_sweeper(
    client, project_key, monkeypatch, published, settings
):
    """kill -9 of a web process between the commit and its publisher's turn."""
    monkeypatch.setattr(BatchPublisher, "add", lambda publisher, ids: None)  # never published
    data = coredump_path("an385-O0", "null_write").read_bytes()
    assert upload(client, project_key, data).status_code == 202
    assert post_chunk(client, project_key, SINGLE).status_code == 202
    coredump, pending = Coredump.objects.get(), PendingChunks.objects.get()
    assert coredump.queued is not None
    assert pending.queued is not None
    assert published == []
    sent = []
    monkeypatch.setattr(
        crash_services.outbox, "publish_symbolicate", lambda pk, mark=False: sent.append(pk) or True
    )

    soon = coredump.queued + services.timedelta(seconds=60)
    assert crash_services.coredumps_requeue_stuck(soon) == 0  # it may still be on its way
    assert services.pending_chunks_requeue_stuck(soon) == 0
    later = coredump.queued + services.timedelta(seconds=settings.STUCK_AFTER_SECONDS + 1)
    assert crash_services.coredumps_requeue_stuck(later) == 1
    assert services.pending_chunks_requeue_stuck(later) == 1

    assert sent == [coredump.pk]
    assert published == [("chunks", [pending.pk])]

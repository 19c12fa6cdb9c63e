"""The worker side of pending chunks: a group commit's requests, of many devices,
applied in one transaction per project (dre.ingest.tasks.chunks_apply).

A request defers only whole, well-formed event messages (services.chunks_accept), so
most of a batch is heartbeats that need no answer: they are decoded here and stored
with one INSERT per table for the batch (EventBatch), in the order each device sent
them. Anything else (a stream that holds part of a message, a message that turns out
not to be a plain event message) goes through services' one-by-one path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Device
from dre.fleet.services import (
    device_seen,
    device_versions_seen,
    devices_seen_locked,
    hardware_version_get,
    software_version_get,
)
from dre.health.services import heartbeats_record
from dre.ingest import wire
from dre.ingest.models import ChunkStream, DeviceMessage, Event, PendingChunks
from dre.ingest.services import (
    EVENT_KINDS,
    MESSAGE_KINDS,
    ChunksReport,
    _event_dispatch,
    _feed,
    _timestamp,
    to_json,
    unframe,
)
from dre.sql import insert_json_rows


def pending_chunks_apply(ids: list[int]) -> int:
    """Apply the pending chunks of the devices these rows came from, oldest first per
    device; return how many rows were applied. One transaction per project for all its
    devices: a row is deleted in the transaction that stores its messages, so a
    re-delivered task or a concurrent worker (blocked on the devices' stream locks)
    applies each exactly once."""
    devices: dict[int, set[str]] = {}
    for project_id, serial in _pending_devices(ids):
        devices.setdefault(project_id, set()).add(serial)
    return sum(
        _apply_devices(Project.objects.get(pk=project_id), sorted(serials))
        for project_id, serials in devices.items()
    )


def _apply_devices(project: Project, serials: list[str]) -> int:
    """1. Mark the devices seen and lock their streams, in id order (as a request
       locks its one device, then its stream: no lock cycle between workers and requests).
    2. Take (read and delete) their pending rows under those locks: a concurrent apply
       has committed (and deleted them) or not started. The deletion commits with what
       the rows held, or neither does.
    3. Whole event messages fed to an idle stream are stored in a few statements for
       the whole batch (EventBatch); anything else goes through `_feed`, one by one."""
    with transaction.atomic():
        locked = _locked_streams(project, serials)
        rows = _pending_take(project, serials)
        by_serial: dict[str, list[bytes]] = {}
        for _, serial, chunks in rows:
            by_serial.setdefault(serial, []).extend(unframe(bytes(chunks)))
        batch = EventBatch(project)
        for serial, chunks in by_serial.items():
            device, stream = locked[serial]
            messages = _plain_messages(stream, chunks)
            if messages is None:
                _feed(project, device, stream.model(device), chunks, ChunksReport())
            else:
                batch.add(device, messages)
        batch.store()
    return len(rows)


# Lists travel as one array parameter (= ANY), not one placeholder per item as `__in`
# writes them: psycopg splits and quotes a statement of hundreds of placeholders anew
# at every call.
KNOWN_SERIALS = """
SELECT serial FROM fleet_device WHERE project_id = %s AND serial = ANY(%s)
"""
STREAMS_LOCKED = """
SELECT id, device_id, total_length, buffer FROM ingest_chunkstream
WHERE device_id = ANY(%s) ORDER BY device_id FOR UPDATE
"""
PENDING_DEVICES = """
SELECT DISTINCT project_id, device_serial FROM ingest_pendingchunks WHERE id = ANY(%s)
"""
PENDING_TAKE = """
DELETE FROM ingest_pendingchunks WHERE project_id = %s AND device_serial = ANY(%s)
RETURNING id, device_serial, chunks
"""


def _pending_devices(ids: list[int]) -> list[tuple[int, str]]:
    """(project id, device serial) of the pending rows among `ids` (a row applied by an
    earlier delivery of the task is gone)."""
    if connection.vendor != "postgresql":  # SQLite, in development, has no arrays
        rows = PendingChunks.objects.filter(pk__in=ids)
        return list(rows.values_list("project_id", "device_serial").distinct())
    with connection.cursor() as cursor:
        cursor.execute(PENDING_DEVICES, [list(ids)])
        return cursor.fetchall()


def _pending_take(project: Project, serials: list[str]) -> list[tuple[int, str, bytes]]:
    """Delete the devices' pending rows and return them, (id, serial, chunks), oldest
    first: one statement where reading and deleting them took two."""
    if connection.vendor != "postgresql":
        pending = PendingChunks.objects.filter(project=project, device_serial__in=serials)
        rows = list(pending.order_by("pk").values_list("pk", "device_serial", "chunks"))
        pending.filter(pk__in=[pk for pk, _, _ in rows]).delete()
        return rows
    with connection.cursor() as cursor:
        cursor.execute(PENDING_TAKE, [project.pk, list(serials)])
        return sorted(cursor.fetchall())


def _locked_streams(project: Project, serials: list[str]) -> dict[str, tuple[Device, LockedStream]]:
    """{serial: (device, stream)}, the devices marked seen and their streams locked
    until the transaction ends, each in device id order."""
    for serial in set(serials) - _known_serials(project, serials):
        device_seen(project, serial)  # a device's first contact
    devices = devices_seen_locked(project, serials)
    by_device = _streams_locked([device.pk for device in devices])
    missing = [device.pk for device in devices if device.pk not in by_device]
    if missing:  # devices whose first chunks were applied elsewhere, or never
        ChunkStream.objects.bulk_create(
            [ChunkStream(device_id=pk) for pk in missing], ignore_conflicts=True
        )
        by_device.update(_streams_locked(missing))
    return {device.serial: (device, by_device[device.pk]) for device in devices}


def _known_serials(project: Project, serials: list[str]) -> set[str]:
    if connection.vendor != "postgresql":
        known = Device.objects.filter(project=project, serial__in=serials)
        return set(known.values_list("serial", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(KNOWN_SERIALS, [project.pk, list(serials)])
        return {serial for (serial,) in cursor.fetchall()}


@dataclass
class LockedStream:
    """A device's chunk stream as read under its row lock: what deciding between the
    batch and the one-by-one path needs, without a model instance per device."""

    id: int
    device_id: int
    total_length: int | None
    buffer: bytes

    @property
    def idle(self) -> bool:
        return self.total_length is None and not self.buffer

    def model(self, device: Device) -> ChunkStream:
        """The row as `_feed` takes it (the rare path: a partial message)."""
        stream = ChunkStream(
            id=self.id, device=device, total_length=self.total_length, buffer=self.buffer
        )
        stream._state.adding = False
        return stream


def _streams_locked(device_ids: list[int]) -> dict[int, LockedStream]:
    if connection.vendor != "postgresql":
        streams = ChunkStream.objects.select_for_update().filter(device__in=device_ids)
        rows = streams.order_by("device").values_list("id", "device_id", "total_length", "buffer")
    else:
        with connection.cursor() as cursor:
            cursor.execute(STREAMS_LOCKED, [list(device_ids)])
            rows = cursor.fetchall()
    return {
        device_id: LockedStream(pk, device_id, total_length, bytes(buffer))
        for pk, device_id, total_length, buffer in rows
    }


def _plain_messages(stream: LockedStream, chunks: list[bytes]) -> list | None:
    """The decoded messages when the chunks, fed to the idle stream, are only whole,
    well-formed event messages that name no other project, hold no RLE and no NUL.
    None means: apply them one by one, which records what does not decode as a request
    would have (chunks_deferrable defers such messages too)."""
    if not stream.idle:
        return None
    state, messages = wire.IDLE, []
    for raw in chunks:
        result = wire.feed_chunk(state, raw, max_message_length=settings.MAX_COREDUMP_BYTES)
        state = result.state
        for outcome in result.outcomes:
            plain = outcome.ok and _plain_message(outcome.message)
            if not plain:
                return None
            messages.append(plain)
    return messages if state.idle else None


def _plain_message(data: bytes) -> PlainMessage | None:
    try:
        message = wire.parse_message(data, max_payload_size=settings.MAX_COREDUMP_BYTES)
        if message.rle or message.project_key is not None:
            return None
        if message.type == wire.MessageType.COREDUMP:
            return None
        events = wire.decode_events(message.payload)
    except wire.WireError:
        return None
    data_json = [to_json(event) for event in events]
    if "\\u0000" in json.dumps(data_json):  # one dumps: an escape never spans two events
        return None
    return PlainMessage(MESSAGE_KINDS[message.type], data, events, data_json)


@dataclass
class PlainMessage:
    kind: str
    raw: bytes
    events: list
    data: list


class EventBatch:
    """Event messages of many devices, stored with one INSERT per table: the messages,
    their events, then the heartbeats (dre.health.services.heartbeats_record); other
    events go to their apps one by one, as from a request.

    Rows are plain dicts, not model instances: for a batch of hundreds of heartbeats,
    Model.__init__ of a message, an event and an interval together was a fifth of the
    worker's CPU. They read `.id`, not the `.pk` property (a call through the model's
    meta, a dozen times a heartbeat)."""

    def __init__(self, project: Project):
        self.project = project
        self.messages: list[tuple[Device, PlainMessage]] = []
        # fleet's cache of version rows holds them once committed: this one, for the batch.
        self.versions: dict[tuple, object] = {}
        # Text once for the batch: PostgreSQL reads it from the JSON rows, Django (SQLite)
        # parses it, and json.dumps would call back for every row's datetime.
        self.received_at = timezone.now()
        self.received = self.received_at.isoformat()

    def add(self, device: Device, messages: list[PlainMessage]) -> None:
        self.messages += [(device, message) for message in messages]

    def store(self) -> None:
        if not self.messages:
            return
        message_ids = _insert_rows(
            DeviceMessage, [self._message_row(device, plain) for device, plain in self.messages]
        )
        events = [
            BatchEvent(device, event, data, message_id, plain.kind)
            for (device, plain), message_id in zip(self.messages, message_ids, strict=True)
            for event, data in zip(plain.events, plain.data, strict=True)
        ]
        event_ids = _insert_rows(Event, [self._event_row(event) for event in events])
        self._versions_seen(events)
        heartbeats = []
        for event, event_id in zip(events, event_ids, strict=True):
            if isinstance(event.event.info, wire.Heartbeat):
                heartbeats.append((event.event, self._context(event, event_id)))
            else:
                stored = self._event_model(event, event_id)
                _event_dispatch(self.project, event.device, event.event, stored, event.kind)
        heartbeats_record(self.project, heartbeats)

    def _message_row(self, device: Device, plain: PlainMessage) -> dict:
        return {
            "project_id": self.project.id,
            "device_id": device.id,
            "kind": plain.kind,
            "status": DeviceMessage.Status.ACCEPTED,
            "error": "",
            "raw": plain.raw,
            "coredump_id": None,
            "received": self.received,
        }

    def _event_row(self, event: BatchEvent) -> dict:
        software = self._software_version(event.event)
        hardware = self._hardware_version(event.event)
        return {
            "project_id": self.project.id,
            "device_id": event.device.id,
            "message_id": event.message_id,
            "kind": EVENT_KINDS.get(type(event.event.info), Event.Kind.OTHER),
            "captured": _timestamp(event.event.captured_at),
            "received": self.received,
            "software_version_id": software.id if software else None,
            "hardware_version_id": hardware.id if hardware else None,
            "data": event.data,
        }

    def _event_model(self, event: BatchEvent, event_id: int) -> Event:
        """The stored event as the apps' dispatch takes it (events other than heartbeats)."""
        stored = Event(id=event_id, **{**self._event_row(event), "received": self.received_at})
        stored.device = event.device
        stored.software_version = self._software_version(event.event)
        stored.hardware_version = self._hardware_version(event.event)
        stored._state.adding = False
        return stored

    def _software_version(self, event: wire.Event):
        key = ("software", event.software_type, event.software_version)
        if key not in self.versions:
            self.versions[key] = software_version_get(
                self.project, event.software_type, event.software_version
            )
        return self.versions[key]

    def _hardware_version(self, event: wire.Event):
        key = ("hardware", event.hardware_version)
        if key not in self.versions:
            self.versions[key] = hardware_version_get(self.project, event.hardware_version)
        return self.versions[key]

    def _versions_seen(self, events: list[BatchEvent]) -> None:
        """Each device's last reported hardware and software versions (an event that
        names none keeps what an earlier one named), written where they changed: what
        device_versions_seen per event leaves, in one write per device at most."""
        latest: dict[int, dict] = {}
        for event in events:
            seen = latest.setdefault(event.device.id, {"device": event.device})
            hardware = self._hardware_version(event.event)
            if hardware is not None:
                seen["hardware_version"] = hardware
            software = self._software_version(event.event)
            if software is not None:
                seen["software_version"] = software
        for seen in latest.values():
            device_versions_seen(**seen)

    def _context(self, event: BatchEvent, event_id: int) -> dict:
        """What heartbeats_record takes with each heartbeat."""
        software = self._software_version(event.event)
        hardware = self._hardware_version(event.event)
        return {
            "device": event.device,
            "software_version_id": software.id if software else None,
            "hardware_version_id": hardware.id if hardware else None,
            "cohort_id": event.device.cohort_id,
            "source_event_id": event_id,
        }


@dataclass
class BatchEvent:
    """One decoded event of a batch, with the device and stored message it came in."""

    device: Device
    event: wire.Event
    data: dict
    message_id: int
    kind: str  # the message's kind


def _insert_rows(model, rows: list[dict]) -> list[int]:
    """INSERT `rows` (dicts of every column but the id) in one statement; their ids,
    in their order. On PostgreSQL the rows travel as one JSON parameter
    (dre.sql.insert_json_rows); elsewhere (SQLite, in development) one by one."""
    if connection.vendor != "postgresql":
        return [model.objects.create(**row).pk for row in rows]
    return [pk for (pk,) in insert_json_rows(model, rows, returning=(model._meta.pk.column,))]

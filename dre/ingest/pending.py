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
from django.db import transaction

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
from dre.sql import insert_many_json


def pending_chunks_apply(ids: list[int]) -> int:
    """Apply the pending chunks of the devices these rows came from, oldest first per
    device; return how many rows were applied. One transaction per project for all its
    devices: a row is deleted in the transaction that stores its messages, so a
    re-delivered task or a concurrent worker (blocked on the devices' stream locks)
    applies each exactly once."""
    devices: dict[int, set[str]] = {}
    for project_id, serial in PendingChunks.objects.filter(pk__in=ids).values_list(
        "project_id", "device_serial"
    ):
        devices.setdefault(project_id, set()).add(serial)
    return sum(
        _apply_devices(Project.objects.get(pk=project_id), sorted(serials))
        for project_id, serials in devices.items()
    )


def _apply_devices(project: Project, serials: list[str]) -> int:
    """1. Mark the devices seen and lock their streams, in id order (as a request
       locks its one device, then its stream: no lock cycle between workers and requests).
    2. Read their pending rows under those locks: a concurrent apply has committed
       (and deleted them) or not started.
    3. Whole event messages fed to an idle stream are stored in a few statements for
       the whole batch (EventBatch); anything else goes through `_feed`, one by one."""
    with transaction.atomic():
        locked = _locked_streams(project, serials)
        rows = list(
            PendingChunks.objects.filter(project=project, device_serial__in=serials)
            .order_by("pk")
            .values_list("pk", "device_serial", "chunks")
        )
        by_serial: dict[str, list[bytes]] = {}
        for _, serial, chunks in rows:
            by_serial.setdefault(serial, []).extend(unframe(bytes(chunks)))
        batch = EventBatch(project)
        for serial, chunks in by_serial.items():
            device, stream = locked[serial]
            messages = _plain_messages(stream, chunks)
            if messages is None:
                _feed(project, device, stream, chunks, ChunksReport())
            else:
                batch.add(device, messages)
        batch.store()
        PendingChunks.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    return len(rows)


def _locked_streams(project: Project, serials: list[str]) -> dict[str, tuple]:
    """{serial: (device, stream)}, the devices marked seen and their streams locked
    until the transaction ends, each in device id order."""
    for serial in set(serials) - set(
        Device.objects.filter(project=project, serial__in=serials).values_list("serial", flat=True)
    ):
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


def _streams_locked(device_ids: list[int]) -> dict[int, ChunkStream]:
    streams = ChunkStream.objects.select_for_update().filter(device__in=device_ids)
    return {stream.device_id: stream for stream in streams.order_by("device")}


def _plain_messages(stream: ChunkStream, chunks: list[bytes]) -> list | None:
    """The decoded messages when the chunks, fed to the idle stream, are only whole,
    well-formed event messages that name no other project, hold no RLE and no NUL:
    what a request defers (chunks_deferrable). None means: apply them one by one."""
    if stream.total_length is not None or bytes(stream.buffer):
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
    events go to their apps one by one, as from a request."""

    def __init__(self, project: Project):
        self.project = project
        self.messages: list[tuple[Device, PlainMessage]] = []
        # fleet's cache of version rows holds them once committed: this one, for the batch.
        self.versions: dict[tuple, object] = {}

    def add(self, device: Device, messages: list[PlainMessage]) -> None:
        self.messages += [(device, message) for message in messages]

    def store(self) -> None:
        if not self.messages:
            return
        stored = insert_many_json(
            [
                DeviceMessage(
                    project=self.project,
                    device=device,
                    kind=message.kind,
                    status=DeviceMessage.Status.ACCEPTED,
                    raw=message.raw,
                )
                for device, message in self.messages
            ]
        )
        events = self._events(stored)
        rows = insert_many_json([row for row, _ in events])
        self._versions_seen(rows)
        heartbeats = []
        for row, (event, kind) in zip(rows, [e for _, e in events], strict=True):
            if isinstance(event.info, wire.Heartbeat):
                heartbeats.append((event, self._context(row)))
            else:
                _event_dispatch(self.project, row.device, event, row, kind)
        heartbeats_record(heartbeats)

    def _events(self, stored: list[DeviceMessage]) -> list[tuple[Event, tuple]]:
        events = []
        for message, (device, plain) in zip(stored, self.messages, strict=True):
            for event, data in zip(plain.events, plain.data, strict=True):
                row = Event(
                    project=self.project,
                    device=device,
                    message=message,
                    kind=EVENT_KINDS.get(type(event.info), Event.Kind.OTHER),
                    captured=_timestamp(event.captured_at),
                    software_version=self._software_version(event),
                    hardware_version=self._hardware_version(event),
                    data=data,
                )
                events.append((row, (event, message.kind)))
        return events

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

    def _versions_seen(self, rows: list[Event]) -> None:
        """Each device's last reported hardware and software versions (an event that
        names none keeps what an earlier one named), written where they changed: what
        device_versions_seen per event leaves, in one write per device at most."""
        latest: dict[int, dict] = {}
        for row in rows:
            seen = latest.setdefault(row.device_id, {"device": row.device})
            if row.hardware_version is not None:
                seen["hardware_version"] = row.hardware_version
            if row.software_version is not None:
                seen["software_version"] = row.software_version
        for seen in latest.values():
            device_versions_seen(**seen)

    def _context(self, row: Event) -> dict:
        return {
            "project": self.project,
            "device": row.device,
            "software_version": row.software_version,
            "hardware_version": row.hardware_version,
            "cohort_id": row.device.cohort_id,
            "source_event_id": row.pk,
        }

"""Chunks from devices: reassemble per device, then dispatch each message.

Chunks of one device must be applied in order and never in parallel
(memfault-formats.md 2.2), so a request holds its device's ChunkStream row
locked while it feeds the chunks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from dre.accounts.models import Project
from dre.accounts.selectors import project_key_get
from dre.batching import BatchPublisher, GroupCommit
from dre.celery import TRANSIENT_ERRORS
from dre.crashes.models import Coredump
from dre.crashes.services import NotACoredump, coredump_receive
from dre.diagnostics.services import diagnostics_event_record
from dre.fleet.models import Device
from dre.fleet.services import (
    device_seen,
    device_versions_seen,
    hardware_version_get,
    software_version_get,
)
from dre.health.services import health_event_record
from dre.ingest import wire
from dre.ingest.models import ChunkStream, DeviceMessage, Event, PendingChunks
from dre.sql import ArrayInsert

log = logging.getLogger(__name__)

# Pending chunk rows one sweep publishes at most.
SWEEP_BATCH = 1000

MESSAGE_KINDS = {
    wire.MessageType.COREDUMP: DeviceMessage.Kind.COREDUMP,
    wire.MessageType.EVENT: DeviceMessage.Kind.EVENT,
    wire.MessageType.LOG: DeviceMessage.Kind.LOG,
    wire.MessageType.CDR: DeviceMessage.Kind.CDR,
}
EVENT_KINDS = {
    wire.Heartbeat: Event.Kind.HEARTBEAT,
    wire.RebootEvent: Event.Kind.REBOOT,
    wire.TraceEvent: Event.Kind.TRACE,
    wire.Logs: Event.Kind.LOGS,
    wire.CustomDataRecording: Event.Kind.CDR,
}


@dataclass
class ExpansionBudget:
    """How many bytes RLE payloads may still expand to (memfault-formats.md 2.1).

    A 3-byte RLE record can claim megabytes, so one small request could make the
    server expand gigabytes. Expansion is bounded per request and per device and
    UTC day; the tighter bound is named in the error.
    """

    remaining: int
    limit_name: str
    refusals: list[str] = field(default_factory=list)

    def allowance(self, message: bytes) -> int:
        """The payload limit for `message`: only an RLE payload spends the budget."""
        if not (message[:1] and message[0] & wire.messages.RLE_FLAG):
            return settings.MAX_COREDUMP_BYTES
        return max(min(self.remaining, settings.MAX_COREDUMP_BYTES), 0)

    def spend(self, size: int) -> None:
        self.remaining -= size

    def explain(self, exc: wire.RleExpansionLimit) -> str:
        if exc.limit >= settings.MAX_COREDUMP_BYTES:
            return str(exc)
        refusal = f"{exc}: {self.limit_name} is used up"
        self.refusals.append(refusal)
        return refusal


class LazyExpansionBudget:
    """The device's ExpansionBudget, summed from its coredumps only once an RLE
    payload needs it: heartbeats and plain coredumps never pay that query."""

    def __init__(self, project: Project, device: Device):
        self.project, self.device = project, device
        self.loaded: ExpansionBudget | None = None
        self.refusals: list[str] = []

    def _budget(self) -> ExpansionBudget:
        if self.loaded is None:
            self.loaded = expansion_budget(self.project, self.device)
            self.loaded.refusals = self.refusals
        return self.loaded

    def allowance(self, message: bytes) -> int:
        if not (message[:1] and message[0] & wire.messages.RLE_FLAG):
            return settings.MAX_COREDUMP_BYTES
        return self._budget().allowance(message)

    def spend(self, size: int) -> None:
        self._budget().spend(size)

    def explain(self, exc: wire.RleExpansionLimit) -> str:
        return self._budget().explain(exc)


def expansion_budget(project: Project, device: Device) -> ExpansionBudget:
    day_start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    used = Coredump.objects.filter(
        project=project,
        device=device,
        encoding=Coredump.Encoding.RLE,
        received__gte=day_start,
    ).aggregate(total=Sum("expanded_size"))["total"]
    day_left = settings.MAX_EXPANDED_BYTES_PER_DEVICE_DAY - (used or 0)
    if day_left < settings.MAX_EXPANDED_BYTES_PER_REQUEST:
        return ExpansionBudget(
            day_left,
            f"the device's daily expansion budget "
            f"(MAX_EXPANDED_BYTES_PER_DEVICE_DAY={settings.MAX_EXPANDED_BYTES_PER_DEVICE_DAY})",
        )
    return ExpansionBudget(
        settings.MAX_EXPANDED_BYTES_PER_REQUEST,
        f"the request's expansion budget "
        f"(MAX_EXPANDED_BYTES_PER_REQUEST={settings.MAX_EXPANDED_BYTES_PER_REQUEST})",
    )


@dataclass
class ChunksReport:
    """What a chunk request led to; problems were recorded, not raised."""

    messages: list[DeviceMessage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)


def chunks_accept(project: Project, serial: str, chunks: list[bytes]) -> ChunksReport:
    """A chunk request's chunks: whole event messages (a heartbeat) are only appended
    to PendingChunks by group commit and applied by a worker; anything the request
    could have to refuse (a malformed chunk, a coredump, an RLE payload, a partial
    message) is applied now, so that its answer says what happened."""
    # Inside a transaction (a test's) the chunks must commit or roll back with it:
    # applied now, as the worker would.
    if connection.in_atomic_block or not chunks_deferrable(chunks):
        return chunks_ingest(project, serial, chunks)
    _pending.submit((project.pk, serial, frame(chunks)))
    return ChunksReport()


def chunks_deferrable(chunks: list[bytes]) -> bool:
    """Whether applying the chunks later cannot change the request's answer: fed to
    an idle stream they are whole chunks that end idle (else a 400 or a partial
    message), and each message is one that applying only records, neither RLE nor a
    coredump (their expansion budget can answer 413) nor naming a project by its own
    key. Whether its events decode is the worker's to find: a message that does not
    is recorded as rejected there exactly as it would be here, and answered 202 alike."""
    state = wire.IDLE
    for raw in chunks:
        result = wire.feed_chunk(state, raw, max_message_length=settings.MAX_COREDUMP_BYTES)
        state = result.state
        if not all(outcome.ok and _recorded_only(outcome.message) for outcome in result.outcomes):
            return False
    return state.idle


def _recorded_only(data: bytes) -> bool:
    try:
        message = wire.parse_message(data, max_payload_size=settings.MAX_COREDUMP_BYTES)
    except wire.WireError:
        return False
    return (
        not message.rle
        and message.project_key is None
        and message.type != wire.MessageType.COREDUMP
    )


def frame(chunks: list[bytes]) -> bytes:
    return b"".join(len(chunk).to_bytes(4, "big") + chunk for chunk in chunks)


def unframe(data: bytes) -> list[bytes]:
    chunks, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        chunks.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return chunks


def _pending_publish_ids(ids: list[int]) -> None:
    """One chunks_apply message for `ids`; a refused publish leaves the rows unqueued
    for pending_chunks_requeue_stuck (the sweeper)."""
    from dre.ingest.tasks import chunks_apply

    try:
        chunks_apply.delay(ids)
    except Exception as exc:  # kombu and redis-py raise several kinds; all mean "not queued"
        log.warning("could not queue pending chunks %s (%s); the sweeper will", ids, exc)
        try:
            PendingChunks.objects.filter(pk__in=ids).update(queued=None)
        except TRANSIENT_ERRORS:  # they keep `queued`: swept after STUCK_AFTER_SECONDS
            log.warning("pending chunks %s: could not record their outbox state", ids)


# Committed groups of pending chunks are published by the process's publisher thread,
# a few groups per message (dre/batching.py).
_pending_publisher = BatchPublisher(publish=_pending_publish_ids)
# `queued` is set by the statement: published once the group committed.
_pending_insert = ArrayInsert(
    PendingChunks, ["project_id", "device_serial", "chunks"], queued=timezone.now
)
_pending = GroupCommit(write=_pending_insert, publisher=_pending_publisher)


def pending_chunks_requeue_stuck(now=None) -> int:
    """Publish pending chunks whose message never reached the broker (`queued` None
    for a few seconds) or was lost (`queued` STUCK_AFTER_SECONDS ago)."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=10)
    lost = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = PendingChunks.objects.filter(
        Q(queued__isnull=True, received__lt=grace) | Q(queued__lt=lost)
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    ids = list(stuck)
    if ids:
        PendingChunks.objects.filter(pk__in=ids).update(queued=now)
        _pending_publish_ids(ids)
    return len(ids)


def chunks_ingest(project: Project, serial: str, chunks: list[bytes]) -> ChunksReport:
    report = ChunksReport()
    with transaction.atomic():
        device, stream = _locked_stream(project, serial)
        _apply_earlier_pending(project, device, stream, serial)
        _feed(project, device, stream, chunks, report)
    return report


def _apply_earlier_pending(project, device, stream: ChunkStream, serial: str) -> None:
    """A device's chunks apply in the order they arrived: whole messages an earlier
    request appended to PendingChunks (not applied by a worker yet) go before this
    request's chunks, which may start or continue a multi-chunk message. Under the
    stream's lock, so a worker's apply of the same rows has committed or waits."""
    rows = list(PendingChunks.objects.filter(project=project, device_serial=serial).order_by("pk"))
    if not rows:
        return
    earlier = [chunk for row in rows for chunk in unframe(bytes(row.chunks))]
    _feed(project, device, stream, earlier, ChunksReport())
    PendingChunks.objects.filter(pk__in=[row.pk for row in rows]).delete()
    stream.refresh_from_db(fields=["total_length", "buffer"])


def _locked_stream(project: Project, serial: str) -> tuple[Device, ChunkStream]:
    """The device, marked seen, and its chunk stream locked until the transaction ends:
    a device's chunks are applied in order, never in parallel."""
    device = device_seen(project, serial)
    stream, _ = ChunkStream.objects.select_for_update().get_or_create(device=device)
    return device, stream


def _feed(project, device, stream: ChunkStream, chunks: list[bytes], report: ChunksReport) -> None:
    budget = LazyExpansionBudget(project, device)
    before = wire.ReassemblyState(stream.total_length, bytes(stream.buffer))
    state = before
    for raw in chunks:
        result = wire.feed_chunk(state, raw, max_message_length=settings.MAX_COREDUMP_BYTES)
        state = result.state
        for outcome in result.outcomes:
            _apply_outcome(project, device, outcome, report, budget)
    report.over_budget = budget.refusals
    # A request of whole messages (a heartbeat) leaves the stream as empty as it
    # found it: no write then. The row lock still ordered us.
    if (state.total_length, state.buffer) != (before.total_length, before.buffer):
        ChunkStream.objects.filter(pk=stream.pk).update(
            total_length=state.total_length, buffer=state.buffer, updated=timezone.now()
        )


def _apply_outcome(
    project, device, outcome: wire.ChunkOutcome, report: ChunksReport, budget: LazyExpansionBudget
) -> None:
    if outcome.ok:
        report.messages.append(message_ingest(project, device, outcome.message, budget))
        return
    if outcome.status == wire.OutcomeStatus.DUPLICATE:
        return
    if outcome.status == wire.OutcomeStatus.MALFORMED:
        report.malformed.append(outcome.reason)
    report.problems.append(outcome.reason)
    _reject(
        project,
        device,
        DeviceMessage.Kind.UNKNOWN,
        outcome.message or outcome.chunk,
        f"{outcome.status}: {outcome.reason}",
    )


def _reject(project, device, kind, raw: bytes, error: str) -> DeviceMessage:
    log.info("device %s: rejected %s message: %s", device.serial, kind, error)
    return DeviceMessage.objects.create(
        project=project,
        device=device,
        kind=kind,
        status=DeviceMessage.Status.REJECTED,
        error=error,
        raw=raw,
    )


def message_ingest(
    project: Project, device: Device, data: bytes, budget: LazyExpansionBudget | None = None
) -> DeviceMessage:
    """Dispatch one reassembled message by its type; failures are recorded with the bytes."""
    budget = budget or LazyExpansionBudget(project, device)
    try:
        message = wire.parse_message(data, max_payload_size=budget.allowance(data))
    except wire.RleExpansionLimit as exc:
        return _reject(project, device, DeviceMessage.Kind.UNKNOWN, data, budget.explain(exc))
    except wire.WireError as exc:
        return _reject(project, device, DeviceMessage.Kind.UNKNOWN, data, str(exc))
    if message.rle:
        budget.spend(len(message.payload))
    kind = MESSAGE_KINDS[message.type]
    owner = _message_project(project, message)
    if owner is None:
        return _reject(project, device, kind, data, "the project key inside the message is unknown")
    if owner != project:
        device = device_seen(owner, device.serial)
    if message.type == wire.MessageType.COREDUMP:
        return _coredump_message(owner, device, data, message)
    return _event_message(owner, device, kind, data, message)


def _message_project(project: Project, message: wire.Message) -> Project | None:
    """A project key inside the message overrides the HTTP header's (section 2.1)."""
    if message.project_key is None:
        return project
    key = project_key_get(message.project_key)
    return key.project if key else None


def _coredump_message(project, device, data: bytes, message: wire.Message) -> DeviceMessage:
    try:
        coredump_id = coredump_receive(
            project,
            message.payload,
            source=Coredump.Source.CHUNKS,
            device=device,
            # Stored as sent: the RLE form, which the worker expands again.
            sent=message.sent_payload if message.rle else None,
        )
    except NotACoredump as exc:
        return _reject(project, device, DeviceMessage.Kind.COREDUMP, data, str(exc))
    return DeviceMessage.objects.create(
        project=project,
        device=device,
        kind=DeviceMessage.Kind.COREDUMP,
        status=DeviceMessage.Status.ACCEPTED,
        coredump_id=coredump_id,
    )


def _event_message(project, device, kind, data: bytes, message: wire.Message) -> DeviceMessage:
    try:
        events = wire.decode_events(message.payload)
    except wire.WireError as exc:
        return _reject(project, device, kind, data, str(exc))
    if any(_contains_nul(event) for event in events):
        # PostgreSQL stores no NUL in text or jsonb: refuse the message, keep its bytes.
        return _reject(project, device, kind, data, "an event's text contains a NUL character")
    stored = DeviceMessage.objects.create(
        project=project, device=device, kind=kind, status=DeviceMessage.Status.ACCEPTED, raw=data
    )
    for event in events:
        _event_store(project, device, stored, event)
    return stored


def _event_store(project, device, message: DeviceMessage, event: wire.Event) -> Event:
    software_version = software_version_get(project, event.software_type, event.software_version)
    hardware_version = hardware_version_get(project, event.hardware_version)
    device_versions_seen(
        device, hardware_version=hardware_version, software_version=software_version
    )
    stored = Event.objects.create(
        project=project,
        device=device,
        message=message,
        kind=EVENT_KINDS.get(type(event.info), Event.Kind.OTHER),
        captured=_timestamp(event.captured_at),
        software_version=software_version,
        hardware_version=hardware_version,
        data=to_json(event),
    )
    _event_dispatch(project, device, event, stored, message.kind)
    return stored


def _event_dispatch(project, device, event: wire.Event, stored: Event, message_kind: str) -> None:
    """Hand a stored event to the apps that give it meaning."""
    versions = {
        "software_version": stored.software_version,
        "hardware_version": stored.hardware_version,
    }
    health_event_record(project, device, event, event_id=stored.pk, **versions)
    diagnostics_event_record(
        project,
        device,
        event,
        event_id=stored.pk,
        collected=message_kind == DeviceMessage.Kind.LOG,
        **versions,
    )


def _contains_nul(value) -> bool:
    """Whether a text of a decoded event (a key or a value) holds a NUL character,
    which PostgreSQL's text and jsonb refuse. Walked directly: every heartbeat of a
    chunk request is checked, and rendering it as JSON to search the text cost more
    than the rest of the request's checks."""
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    if is_dataclass(value):
        return any(_contains_nul(v) for v in vars(value).values())
    return False


def _timestamp(seconds: int | None) -> datetime | None:
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
# A dataclass's field names, by class: `fields()` rebuilds its tuple at every call,
# which was a third of a worker's decoding of a heartbeat.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_json(value):
    """Decoded events as JSON: bytes become hex, dict keys become strings."""
    kind = type(value)
    if kind in _JSON_SCALARS:  # most values: the other tests cost more than this one
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:  # field by field: asdict would deep-copy the whole tree first
        return {name: to_json(getattr(value, name)) for name in names}
    if is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    return value

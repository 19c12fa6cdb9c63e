"""CBOR events: the payload of event, log and CDR messages (reference §2.4, §2.5).

A payload is one event map, or a definite array of event maps when the SDK batches events.
Each map is an envelope (integer keys, §2.4) whose key 4 holds a type-specific body (§2.5).
Keys we do not know are kept in `extra`, so a newer SDK loses nothing.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import chain
from typing import TypeVar

import cbor2

from .errors import EventError

# SDK events nest at most four deep (batch, envelope, body, compact-log arguments).
MAX_CBOR_DEPTH = 16
SUPPORTED_SCHEMA_VERSION = 1

T = TypeVar("T")


class EventType(IntEnum):
    HEARTBEAT = 1
    TRACE = 2  # a reboot event or a user trace event
    LOG_ERROR = 3  # deprecated by the SDK; its body is kept undecoded
    LOGS = 4
    CDR = 5
    LOGS_TIMESTAMPED = 6


@dataclass(frozen=True)
class Heartbeat:
    """A metrics session (§2.5.1). The SDK sends values by position; names come later
    from the symbol file. Memfault's test pattern sends a name->value map instead."""

    session_index: int | None
    metrics: dict[str, object] = field(default_factory=dict)
    positional_metrics: list[object] = field(default_factory=list)
    extra: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RebootEvent:
    """Why the device last rebooted (§2.5.2); `reason` is an eMemfaultRebootReason."""

    reason: int
    pc: int | None = None
    lr: int | None = None
    mcu_reason_register: int | None = None
    coredump_saved: bool | None = None
    extra: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TraceEvent:
    """A trace the firmware recorded itself (§2.5.3); `user_reason` indexes its reasons."""

    user_reason: int
    pc: int | None = None
    lr: int | None = None
    status_code: int | None = None
    log: bytes | None = None
    compact_log: list[object] | None = None
    extra: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LogLine:
    """`message` is text, or bytes for a compact log that needs the ELF to format."""

    level: int
    message: str | bytes
    timestamp: int | None = None  # Unix seconds; None when not sent or sent as 0 (unknown)


@dataclass(frozen=True)
class Logs:
    lines: list[LogLine]


@dataclass(frozen=True)
class CustomDataRecording:
    data: bytes
    duration_ms: int | None = None
    mimetypes: list[str] = field(default_factory=list)
    reason: str | None = None
    extra: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class UnknownEventInfo:
    """The body of an event type we do not decode, kept as CBOR decoded it."""

    value: object


EventInfo = Heartbeat | RebootEvent | TraceEvent | Logs | CustomDataRecording | UnknownEventInfo


@dataclass(frozen=True)
class Event:
    type: int  # an EventType value, or an unknown number (then `info` is UnknownEventInfo)
    schema_version: int
    info: EventInfo
    captured_at: int | None = None  # Unix seconds, only if the device knew the time
    hardware_version: str | None = None
    device_serial: str | None = None  # usually absent: the serial is in the chunk URL
    release_version: str | None = None  # legacy key 8
    software_version: str | None = None
    software_type: str | None = None
    build_id_prefix: bytes | None = None
    extra: dict[object, object] = field(default_factory=dict)


def decode_events(payload: bytes) -> list[Event]:
    """Decode an event, log or CDR message payload into its events (§2.4)."""
    value = _load_cbor(payload)
    items = value if isinstance(value, list) else [value]
    return [_decode_event(item, f"event {index}") for index, item in enumerate(items)]


def _load_cbor(payload: bytes) -> object:
    stream = io.BytesIO(payload)
    decoder = cbor2.CBORDecoder(stream, max_depth=MAX_CBOR_DEPTH, allow_duplicate_keys=False)
    try:
        value = decoder.decode()
    except cbor2.CBORDecodeError as exc:
        raise EventError(f"malformed CBOR: {exc}") from exc
    if stream.tell() != len(payload):
        raise EventError(f"{len(payload) - stream.tell()} bytes follow the CBOR value")
    _check_plain(value, depth=0)
    return value


_SCALARS = (int, float, str, bytes, type(None))
_SCALAR_TYPES = frozenset({*_SCALARS, bool})


def _check_plain(value: object, depth: int) -> None:
    """Refuse CBOR the SDK never writes: tags (dates, sets, shared references that can
    make cycles) and simple values. The depth bound also stops on a cycle."""
    if depth > MAX_CBOR_DEPTH:
        raise EventError(f"CBOR nests deeper than {MAX_CBOR_DEPTH} levels")
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = chain.from_iterable(value.items())
    elif not isinstance(value, _SCALARS):
        raise EventError(f"CBOR holds a {type(value).__name__}, which the SDK never sends")
    else:
        return
    # A heartbeat is mostly scalars: skip their call unless one would be too deep.
    deep = depth >= MAX_CBOR_DEPTH
    for item in items:
        if deep or type(item) not in _SCALAR_TYPES:
            _check_plain(item, depth + 1)


def _decode_event(value: object, where: str) -> Event:
    fields = _Fields(value, where)
    event_type = fields.required(2, int)
    schema_version = fields.required(3, int)
    if schema_version != SUPPORTED_SCHEMA_VERSION:
        raise EventError(f"{where}: CBOR schema version {schema_version} is not supported")
    info = _decode_info(event_type, fields.required(4, object), f"{where} info")
    return Event(
        type=event_type,
        schema_version=schema_version,
        info=info,
        captured_at=fields.optional(1, int),
        hardware_version=fields.optional(6, str),
        device_serial=fields.optional(7, str),
        release_version=fields.optional(8, str),
        software_version=fields.optional(9, str),
        software_type=fields.optional(10, str),
        build_id_prefix=fields.optional(11, bytes),
        extra=fields.rest(),
    )


def _decode_info(event_type: int, info: object, where: str) -> EventInfo:
    decoder = _INFO_DECODERS.get(event_type)
    return decoder(info, where) if decoder else UnknownEventInfo(info)


def _heartbeat(info: object, where: str) -> Heartbeat:
    fields = _Fields(info, where)
    session_index = fields.optional(2, int)
    metrics = fields.required(1, object)
    if isinstance(metrics, list):
        return Heartbeat(session_index, positional_metrics=metrics, extra=fields.rest())
    if isinstance(metrics, dict) and all(isinstance(name, str) for name in metrics):
        return Heartbeat(session_index, metrics=metrics, extra=fields.rest())
    raise EventError(f"{where}: metrics should be an array or a map of names to values")


def _trace(info: object, where: str) -> RebootEvent | TraceEvent:
    # The reason key tells the two apart: 1 for a reboot event, 6 for a user trace (§2.5.3).
    fields = _Fields(info, where)
    if fields.has(1):
        return RebootEvent(
            reason=fields.required(1, int),
            pc=fields.optional(2, int),
            lr=fields.optional(3, int),
            mcu_reason_register=fields.optional(4, int),
            coredump_saved=_flag(fields.optional(5, int)),
            extra=fields.rest(),
        )
    if fields.has(6):
        return TraceEvent(
            user_reason=fields.required(6, int),
            pc=fields.optional(2, int),
            lr=fields.optional(3, int),
            status_code=fields.optional(7, int, signed=True),
            log=fields.optional(8, bytes),
            compact_log=fields.optional(9, list),
            extra=fields.rest(),
        )
    raise EventError(f"{where}: a trace needs key 1 (reboot reason) or key 6 (user reason)")


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _logs(info: object, where: str) -> Logs:
    return Logs(_log_lines(info, where, timestamped=False))


def _timestamped_logs(info: object, where: str) -> Logs:
    return Logs(_log_lines(info, where, timestamped=True))


def _log_lines(info: object, where: str, *, timestamped: bool) -> list[LogLine]:
    # Type 4 is a flat [level, msg, level, msg, ...]; type 6 repeats [timestamp, level, msg].
    width = 3 if timestamped else 2
    if not isinstance(info, list) or len(info) % width:
        shape = "timestamp, level, message" if timestamped else "level, message"
        raise EventError(f"{where}: logs should be a flat array of ({shape}) groups")
    return [_log_line(info[start : start + width], where) for start in range(0, len(info), width)]


def _log_line(group: list[object], where: str) -> LogLine:
    *timestamp, level, message = group
    if not _is_uint(level) or not isinstance(message, str | bytes):
        raise EventError(f"{where}: a log line needs an unsigned level and a text or byte message")
    if timestamp and not _is_uint(timestamp[0]):
        raise EventError(f"{where}: a log timestamp should be an unsigned integer")
    return LogLine(level, message, (timestamp[0] or None) if timestamp else None)


def _cdr(info: object, where: str) -> CustomDataRecording:
    fields = _Fields(info, where)
    mimetypes = fields.optional(2, list) or []
    if not all(isinstance(mimetype, str) for mimetype in mimetypes):
        raise EventError(f"{where}: mimetypes should be text")
    return CustomDataRecording(
        data=fields.required(4, bytes),
        duration_ms=fields.optional(1, int),
        mimetypes=mimetypes,
        reason=fields.optional(3, str),
        extra=fields.rest(),
    )


_INFO_DECODERS: dict[int, Callable[[object, str], EventInfo]] = {
    EventType.HEARTBEAT: _heartbeat,
    EventType.TRACE: _trace,
    EventType.LOGS: _logs,
    EventType.CDR: _cdr,
    EventType.LOGS_TIMESTAMPED: _timestamped_logs,
}


def _is_uint(value: object) -> bool:
    return type(value) is int and value >= 0


class _Fields:
    """Takes typed values out of a CBOR map by key; whatever is left becomes `extra`."""

    def __init__(self, value: object, where: str):
        if not isinstance(value, dict):
            raise EventError(f"{where} should be a map, not {type(value).__name__}")
        self._left = dict(value)
        self._where = where

    def has(self, key: int) -> bool:
        return key in self._left

    def required(self, key: int, kind: type[T]) -> T:
        value = self.optional(key, kind)
        if value is None:
            raise EventError(f"{self._where}: key {key} is missing")
        return value

    def optional(self, key: int, kind: type[T], *, signed: bool = False) -> T | None:
        """Integers are unsigned unless `signed`; booleans never pass for integers."""
        value = self._left.pop(key, None)
        if value is None:
            return None
        wrong_int = kind is int and (type(value) is not int or (value < 0 and not signed))
        if wrong_int or not isinstance(value, kind):
            raise EventError(f"{self._where}: key {key} holds an unexpected {_describe(value)}")
        return value

    def rest(self) -> dict[object, object]:
        return dict(self._left)


def _describe(value: object) -> str:
    if type(value) is int and value < 0:
        return "negative integer"
    return type(value).__name__

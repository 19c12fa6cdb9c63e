"""Writes for diagnostics: record the trace events, logs and recordings ingest hands over.

Ingest calls `diagnostics_event_record` for every decoded event (the dispatch). Recording
is a cheap insert in the chunk request; what needs the build's ELF (reason names, PC/LR,
compact log formats) runs in tasks started on commit (dre.diagnostics.resolution).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from dre import blobs
from dre.accounts.models import Project
from dre.crashes.selectors import device_coredump_since
from dre.diagnostics.models import LogLine, Recording, State, TraceEvent
from dre.fleet.models import Device, HardwareVersion, SoftwareVersion
from dre.ingest import wire

log = logging.getLogger(__name__)
U32 = 0xFFFFFFFF
I64 = 1 << 63
# Levels are a uint8_t enum in the SDK; anything larger is no device's.
MAX_LOG_LEVEL = 0xFF
# The SDK sends its log buffer right after the coredump it was captured with; a log
# message from the same device within this window belongs to that coredump.
COREDUMP_LOG_WINDOW = timedelta(minutes=10)


def diagnostics_event_record(
    project: Project,
    device: Device,
    event: wire.Event,
    *,
    event_id: int,
    collected: bool,
    software_version: SoftwareVersion | None,
    hardware_version: HardwareVersion | None,
) -> None:
    """The dispatch: trace events, logs and recordings become rows here; other kinds
    belong to other apps. `collected`: the event came in a log message (the SDK's log
    buffer, sent on demand or after a crash), not in an event message."""
    recorder = _RECORDERS.get(type(event.info))
    if recorder is None:
        return
    problem = _out_of_range(event.info)
    if problem:
        # The event stays in ingest's log with its bytes; only its diagnostics row is skipped.
        log.warning("device %s: event %s is not recorded: %s", device.serial, event_id, problem)
        return
    when, known = _event_time(event)
    context = {
        "project": project,
        "device": device,
        "time": when,
        "time_known": known,
        "software_version": software_version,
        "hardware_version": hardware_version,
        "build_id_prefix": (event.build_id_prefix or b"").hex(),
        "source_event_id": event_id,
    }
    recorder(event.info, context, collected)


def _out_of_range(info) -> str | None:
    """Addresses are 32-bit on every SDK target, status codes fit a C int: CBOR lets
    both grow to 64 bits, which no row column holds."""
    if isinstance(info, wire.TraceEvent):
        for name in ("user_reason", "pc", "lr"):
            if (getattr(info, name) or 0) > U32:
                return f"trace event {name} {getattr(info, name)} does not fit 32 bits"
        if info.status_code is not None and not -I64 <= info.status_code < I64:
            return f"trace event status code {info.status_code} does not fit 64 bits"
    if isinstance(info, wire.Logs):
        levels = [line.level for line in info.lines if line.level > MAX_LOG_LEVEL]
        if levels:
            return f"log level {levels[0]} is no eMemfaultPlatformLogLevel"
    if isinstance(info, wire.CustomDataRecording) and (info.duration_ms or 0) >= I64:
        return f"recording duration {info.duration_ms} ms does not fit 64 bits"
    return None


def _event_time(event: wire.Event) -> tuple[datetime, bool]:
    if event.captured_at:
        return datetime.fromtimestamp(event.captured_at, tz=UTC), True
    return timezone.now(), False


def _insert(row) -> bool:
    """Insert once per event: a re-delivered event (same ingest id) is no second row."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return False
    return True


# -- trace events ------------------------------------------------------------------------


def trace_event_record(info: wire.TraceEvent, context: dict, collected: bool) -> TraceEvent | None:
    from dre.diagnostics.tasks import resolve_trace_event

    row = TraceEvent(
        **context,
        reason=info.user_reason,
        status_code=info.status_code,
        pc=info.pc,
        lr=info.lr,
        log=_trace_log(info),
        state=State.AWAITING_SYMBOLS,
    )
    if not _insert(row):
        return None
    resolve_trace_event.delay_on_commit(row.pk)
    return row


def _trace_log(info: wire.TraceEvent) -> dict | None:
    """A preformatted log is final; a compact one is rendered once the ELF is there."""
    if info.log is not None:
        text = info.log.decode("utf-8", "replace")
        return {"status": "preformatted", "text": text}
    if info.compact_log is not None:
        return {"status": "awaiting_symbols", "text": "", "compact": _plain(info.compact_log)}
    return None


# -- logs --------------------------------------------------------------------------------


def logs_record(info: wire.Logs, context: dict, collected: bool) -> list[LogLine]:
    from dre.diagnostics.tasks import resolve_log_lines

    coredump_id = None
    if collected:
        since = timezone.now() - COREDUMP_LOG_WINDOW
        coredump_id = device_coredump_since(context["device"].pk, since)
    rows = [
        _log_line(line, position, context, collected, coredump_id)
        for position, line in enumerate(info.lines)
    ]
    # A re-delivered event's lines are already there: the unique place keeps them once.
    LogLine.objects.bulk_create(rows, ignore_conflicts=True)
    if any(r.state == State.AWAITING_SYMBOLS for r in rows):
        resolve_log_lines.delay_on_commit(context["project"].pk, context["source_event_id"])
    return rows


def _log_line(line: wire.LogLine, position: int, context: dict, collected: bool, coredump_id):
    fields = {**context, "position": position, "level": line.level, "collected": collected}
    when = _line_time(line.timestamp)
    if when is not None:
        fields.update(time=when, time_known=True)
    if isinstance(line.message, str):
        return LogLine(
            **fields,
            text=line.message,
            status="preformatted",
            state=State.RESOLVED,
            coredump_id=coredump_id,
        )
    return LogLine(
        **fields,
        compact=True,
        status="awaiting_symbols",
        detail={"raw": line.message.hex()},
        state=State.AWAITING_SYMBOLS,
        coredump_id=coredump_id,
    )


def _line_time(timestamp: int | None) -> datetime | None:
    """A line's own Unix time; one no calendar holds (a garbled clock) is left out and
    the line keeps its event's time."""
    if not timestamp:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- custom data recordings --------------------------------------------------------------


def recording_record(info: wire.CustomDataRecording, context: dict, collected: bool):
    project = context["project"]
    stored = blobs.blob_save_bytes(blobs.blob_name("recordings", project.pk, ".bin"), info.data)
    row = Recording(
        **context,
        reason=(info.reason or "")[:256],
        mimetypes=list(info.mimetypes),
        duration_ms=info.duration_ms,
        blob=stored.name,
        size=stored.size,
        sha256=hashlib.sha256(info.data).hexdigest(),
    )
    if not _insert(row):
        blobs.blob_delete(stored.name)  # the event was recorded before
        return None
    return row


def _plain(value):
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


_RECORDERS = {
    wire.TraceEvent: trace_event_record,
    wire.Logs: logs_record,
    wire.CustomDataRecording: recording_record,
}

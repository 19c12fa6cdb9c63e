"""Names for positional heartbeats, from the ELF of the exact build.

A heartbeat names its build by the build-id prefix it carries, else by software type and
version (memfault-elf-metadata.md). Until that ELF is uploaded and indexed the interval
waits as `awaiting_symbols`, like a coredump; `heartbeats_release_for` resolves the
waiting ones when it arrives.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from threading import Lock

from django.db import transaction

from dre import blobs
from dre.health.models import HeartbeatInterval
from dre.health.services import (
    interval_duration_ms,
    interval_stored,
    metrics_register,
    value_scaled,
)
from dre.symbols.models import SymbolFile
from dre.symbols.selectors import symbol_file_for
from symbolicator import ElfError, MetricLayout, SymbolicatorError, read_metric_layout

log = logging.getLogger(__name__)

_layouts: dict[tuple[int, str], MetricLayout | None] = {}
_lock = Lock()
LAYOUT_CACHE_SIZE = 32


def heartbeat_resolve(interval_id: int) -> None:
    with transaction.atomic():
        interval = (
            HeartbeatInterval.objects.select_for_update()
            .filter(pk=interval_id, state=HeartbeatInterval.State.AWAITING_SYMBOLS)
            .first()
        )
        if interval is None:
            return
        symbol_file = symbol_file_for(
            interval.project_id,
            build_id=None,
            build_id_prefix=interval.build_id_prefix or None,
            software_version_id=interval.software_version_id,
        )
        if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
            return
        layout = _layout(symbol_file)
        if layout is None:
            return
        _apply_layout(interval, layout)


def _layout(symbol_file: SymbolFile) -> MetricLayout | None:
    """The ELF's metric layout, read once per symbol file; None when it has none."""
    key = (symbol_file.pk, symbol_file.md5)
    with _lock:
        if key in _layouts:
            return _layouts[key]
    try:
        layout = read_metric_layout(blobs.blob_read(symbol_file.blob))
    except (ElfError, SymbolicatorError) as exc:
        log.warning("symbol file %s: no metric layout: %s", symbol_file.pk, exc)
        layout = None
    with _lock:
        if len(_layouts) >= LAYOUT_CACHE_SIZE:
            _layouts.pop(next(iter(_layouts)))
        _layouts[key] = layout
    return layout


def _apply_layout(interval: HeartbeatInterval, layout: MetricLayout) -> None:
    session = layout.sessions.get(interval.session_index)
    keys = layout.session_metrics(interval.session_index)
    if session is None or len(keys) != len(interval.positional):
        # Kept with its values as sent: a later, correct ELF cannot change this build.
        interval.state = HeartbeatInterval.State.UNRESOLVED
        interval.error = (
            f"the ELF names {len(keys)} values for session {interval.session_index}, "
            f"the heartbeat sent {len(interval.positional)}"
        )
        interval.save(update_fields=["state", "error"])
        return
    details = {k.name: {"type": k.type, "scale": float(k.scale)} for k in keys}
    registry = metrics_register(interval.project, {k.name: k.type for k in keys}, details)
    interval.values = {
        k.name: value_scaled(value, registry[k.name].scale if k.name in registry else 1)
        for k, value in zip(keys, interval.positional, strict=True)
    }
    interval.session = session
    interval.duration_ms = interval_duration_ms(interval.values)
    interval.started = interval.ended - timedelta(milliseconds=interval.duration_ms)
    interval.state = HeartbeatInterval.State.RESOLVED
    interval.save()
    interval_stored(interval)


def trace_reason_name(
    project_id: int, *, build_id_prefix: str, software_version_id: int | None, reason: int
) -> str | None:
    """A user trace event's reason by name (enum MfltTraceReasonUser in the build's ELF),
    or None while that ELF is missing or does not name it."""
    symbol_file = symbol_file_for(
        project_id,
        build_id=None,
        build_id_prefix=build_id_prefix or None,
        software_version_id=software_version_id,
    )
    if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
        return None
    layout = _layout(symbol_file)
    return layout.trace_reasons.get(reason) if layout else None


def heartbeats_release_for(symbol_file: SymbolFile) -> int:
    """Queue the intervals that waited for this ELF."""
    from dre.health.tasks import resolve_heartbeat

    waiting = HeartbeatInterval.objects.filter(
        project_id=symbol_file.project_id, state=HeartbeatInterval.State.AWAITING_SYMBOLS
    )
    if symbol_file.build_id:
        prefixes = [symbol_file.build_id[:n] for n in range(10, 41, 2)]
        matched = waiting.filter(build_id_prefix__in=prefixes)
    else:
        matched = waiting.none()
    if symbol_file.software_version_id:
        matched = matched | waiting.filter(
            build_id_prefix="", software_version_id=symbol_file.software_version_id
        )
    ids = list(matched.values_list("pk", flat=True))
    for interval_id in ids:
        resolve_heartbeat.delay_on_commit(interval_id)
    return len(ids)

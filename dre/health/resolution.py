"""Names for positional heartbeats, from the ELF of the exact build.

A heartbeat names its build by the build-id prefix it carries, else by software type and
version (memfault-elf-metadata.md). Until that ELF is uploaded and indexed the interval
waits as `awaiting_symbols`, like a coredump; `heartbeats_release_for` resolves the
waiting ones when it arrives.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from threading import Lock

from django.db import connection, transaction

from dre import blobs
from dre.health.models import HeartbeatInterval
from dre.health.services import (
    apply_registry,
    heartbeats_resolved,
    interval_duration_ms,
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
RESOLVE_BATCH = 500


def heartbeat_resolve(interval_id: int) -> None:
    heartbeats_resolve([interval_id])


def heartbeats_resolve(interval_ids: list[int]) -> int:
    """Name a batch of waiting intervals; returns how many were resolved.

    1. Claim the rows still awaiting symbols (SKIP LOCKED: two workers given overlapping
       batches each take what the other has not).
    2. Per build (build-id prefix, else software version): one symbol file lookup, one
       layout (cached per symbol file), one registry read.
    3. Write the batch back in one UPDATE, then mark days dirty, keep attributes and
       announce it (services.heartbeats_resolved).
    """
    with transaction.atomic():
        claimed = list(
            HeartbeatInterval.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=interval_ids, state=HeartbeatInterval.State.AWAITING_SYMBOLS)
            .select_related("device", "project")
            .order_by("pk")
        )
        by_build: dict[tuple, list[HeartbeatInterval]] = {}
        for interval in claimed:
            build = (interval.project_id, interval.build_id_prefix, interval.software_version_id)
            by_build.setdefault(build, []).append(interval)
        resolved = 0
        for intervals in by_build.values():
            resolved += _resolve_build(intervals)
        return resolved


def _resolve_build(intervals: list[HeartbeatInterval]) -> int:
    registry = intervals_name(intervals)
    if registry is None:
        return 0
    _write_back(intervals)
    done = [i for i in intervals if i.state == HeartbeatInterval.State.RESOLVED]
    heartbeats_resolved(done, registry)
    return len(done)


def intervals_name(intervals: list[HeartbeatInterval]) -> dict | None:
    """Name positional intervals of one build (project, build-id prefix, software version)
    in memory from its ELF, each RESOLVED or UNRESOLVED with a reason; returns the
    registry used, or None (and leaves them waiting) when that ELF is not indexed yet.
    Stored intervals or a worker's IntervalDrafts: it reads and sets the same fields."""
    first = intervals[0]
    symbol_file = symbol_file_for(
        first.project_id,
        build_id=None,
        build_id_prefix=first.build_id_prefix or None,
        software_version_id=first.software_version_id,
    )
    if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
        return None
    layout = _layout(symbol_file)
    if layout is None:
        return None
    registry = _registry(first.project, layout, intervals)
    for interval in intervals:
        _apply_layout(interval, layout, registry)
    return registry


UPDATED_FIELDS = ["values", "filtered", "session", "duration_ms", "started", "state", "error"]
# One statement for the batch. Django's bulk_update builds a CASE per field and row, which
# costs more than the naming itself; `ended` in the join lets PostgreSQL use the (id,
# ended) primary key of the partitioned table.
WRITE_BACK_SQL = """
UPDATE health_heartbeatinterval h
SET "values" = v.vals::jsonb, filtered = v.filtered::jsonb, session = v.session,
    duration_ms = v.duration_ms::bigint, started = v.started::timestamptz,
    state = v.state, error = v.error
FROM (VALUES {rows}) AS v(id, ended, vals, filtered, session, duration_ms, started, state, error)
WHERE h.id = v.id::bigint AND h.ended = v.ended::timestamptz
"""


def _write_back(intervals: list[HeartbeatInterval]) -> None:
    if connection.vendor != "postgresql":
        HeartbeatInterval.objects.bulk_update(intervals, UPDATED_FIELDS)
        return
    params = []
    for i in intervals:
        params += [
            i.pk,
            i.ended,
            json.dumps(i.values),
            json.dumps(i.filtered),
            i.session,
            i.duration_ms,
            i.started,
            i.state,
            i.error,
        ]
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(intervals))
    with connection.cursor() as cursor:
        cursor.execute(WRITE_BACK_SQL.format(rows=rows), params)


def _registry(project, layout: MetricLayout, intervals) -> dict:
    """The registry entries of every key these intervals' sessions name, created from the
    ELF (type, scale, range) the first time."""
    keys = {}
    for index in {i.session_index for i in intervals}:
        for key in layout.session_metrics(index):
            keys[key.name] = key
    details = {name: _details(key) for name, key in keys.items()}
    return metrics_register(project, {name: k.type for name, k in keys.items()}, details)


def _details(key) -> dict:
    scale = float(key.scale) or 1.0
    details = {"type": key.type, "scale": scale}
    # A range of 0 is the SDK's "not given".
    if key.minimum is not None and key.range:
        details["range_min"] = key.minimum / scale
        details["range_max"] = (key.minimum + key.range) / scale
    return details


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


def _apply_layout(interval: HeartbeatInterval, layout: MetricLayout, registry: dict) -> None:
    session = layout.sessions.get(interval.session_index)
    keys = layout.session_metrics(interval.session_index)
    if session is None or len(keys) != len(interval.positional):
        # Kept with its values as sent: a later, correct ELF cannot change this build.
        interval.state = HeartbeatInterval.State.UNRESOLVED
        interval.error = (
            f"the ELF names {len(keys)} values for session {interval.session_index}, "
            f"the heartbeat sent {len(interval.positional)}"
        )
        return
    interval.values = {
        k.name: value_scaled(value, registry[k.name].scale if k.name in registry else 1)
        for k, value in zip(keys, interval.positional, strict=True)
    }
    apply_registry(interval, registry)
    interval.session = session
    interval.duration_ms = interval_duration_ms(interval.values)
    interval.started = interval.ended - timedelta(milliseconds=interval.duration_ms)
    interval.state = HeartbeatInterval.State.RESOLVED


def heartbeats_release_for(symbol_file: SymbolFile) -> int:
    """Queue the intervals that waited for this ELF, in batches."""
    from dre.health.tasks import resolve_heartbeats

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
    ids = list(matched.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), RESOLVE_BATCH):
        resolve_heartbeats.delay_on_commit(ids[start : start + RESOLVE_BATCH])
    return len(ids)

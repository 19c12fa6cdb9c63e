"""Writes for fleet health: record the events ingest hands over, resolve names, roll up.

Ingest calls `health_event_record` for every decoded event (the dispatch); nothing here
reads ingest's tables. Recording is a cheap insert in the chunk request; what needs the
ELF or touches many rows runs in tasks started on commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dre.accounts.models import Project
from dre.events import Event, EventType, publish
from dre.fleet.models import Device, HardwareVersion, SoftwareVersion
from dre.health.metrics import BUILTIN_METRICS, SDK_INTERVAL_MS
from dre.health.models import DeviceMetricValue, DirtyDay, HeartbeatInterval, Metric, Reboot
from dre.health.reboots import reboot_reason
from dre.ingest import wire
from dre.sql import insert_json_rows

log = logging.getLogger(__name__)
METRIC_KEY_LENGTH = 128


def health_event_record(
    project: Project,
    device: Device,
    event: wire.Event,
    *,
    event_id: int,
    software_version: SoftwareVersion | None,
    hardware_version: HardwareVersion | None,
) -> None:
    """The dispatch: heartbeats and reboots become health rows; other kinds have no
    health meaning yet and stay in ingest's event log."""
    context = {
        "project": project,
        "device": device,
        "software_version": software_version,
        "hardware_version": hardware_version,
        "cohort_id": device.cohort_id,
        "source_event_id": event_id,
    }
    problem = _out_of_range(event.info)
    if problem:
        # The event itself stays in ingest's log with its bytes; only its health row is skipped.
        log.warning("device %s: event %s has no health row: %s", device.serial, event_id, problem)
    elif isinstance(event.info, wire.Heartbeat):
        heartbeat_record(event, context)
    elif isinstance(event.info, wire.RebootEvent):
        reboot_record(event, context)


U32 = 0xFFFFFFFF


def _out_of_range(info) -> str | None:
    """Fields the SDK sends as 32-bit values (reason codes, addresses, session indexes)
    but CBOR lets grow to 64 bits: a larger one is no Cortex-M device's."""
    if isinstance(info, wire.Heartbeat) and (info.session_index or 0) > 0x7FFFFFFF:
        return f"session index {info.session_index} is out of range"
    if isinstance(info, wire.RebootEvent):
        for name in ("reason", "pc", "lr"):
            if (getattr(info, name) or 0) > U32:
                return f"reboot {name} {getattr(info, name)} does not fit 32 bits"
    return None


def _event_time(event: wire.Event) -> tuple[datetime, bool]:
    if event.captured_at:
        return datetime.fromtimestamp(event.captured_at, tz=UTC), True
    return timezone.now(), False


def heartbeat_record(event: wire.Event, context: dict) -> HeartbeatInterval | None:
    """Store one interval, keyed by its end; a duplicate of a stored interval is dropped."""
    interval = _interval(event, context)
    if interval.state != HeartbeatInterval.State.AWAITING_SYMBOLS:
        registry = _named_registry(context["project"], [event.info.metrics])
        _apply_named(interval, registry, event.info.metrics)
    if not _insert_one(interval):
        return None
    _after_save(interval)
    return interval


def _interval(event: wire.Event, context: dict) -> HeartbeatInterval:
    """The interval of a heartbeat, positional values awaiting their names."""
    return HeartbeatInterval(**context, **_interval_fields(event))


def _interval_fields(event: wire.Event) -> dict:
    """What a heartbeat says of its interval, before naming.

    The SDK stamps a heartbeat when the interval closes, so the capture time is its end.
    """
    info: wire.Heartbeat = event.info
    ended, _ = _event_time(event)
    fields = {
        "session_index": -1 if info.session_index is None else info.session_index,
        "ended": ended,
        "started": ended,
        "day": ended.date(),
        "build_id_prefix": (event.build_id_prefix or b"").hex(),
        "positional": plain(list(info.positional_metrics)),
    }
    if info.positional_metrics:
        fields["state"] = HeartbeatInterval.State.AWAITING_SYMBOLS
        fields["session"] = f"session {fields['session_index']}"
    return fields


@dataclass(eq=False)
class IntervalDraft:
    """A heartbeat's interval before it is stored, for a worker's batch: the columns of
    HeartbeatInterval as plain attributes (what naming reads and writes, as on the model),
    without Model.__init__'s field loop, which cost more per heartbeat than the naming."""

    project: Project
    project_id: int
    device: Device
    device_id: int
    cohort_id: int
    software_version_id: int | None
    hardware_version_id: int | None
    source_event_id: int
    received: datetime
    session_index: int
    ended: datetime
    started: datetime
    day: date
    build_id_prefix: str
    positional: list
    session: str = "heartbeat"
    duration_ms: int = 0
    values: dict = field(default_factory=dict)
    filtered: dict = field(default_factory=dict)
    state: str = HeartbeatInterval.State.RESOLVED
    error: str = ""
    pk: int | None = None

    def row(self) -> dict:
        """The row to store: every column but the id."""
        return {name: getattr(self, name) for name in INTERVAL_COLUMNS}

    def json_row(self) -> dict:
        """row(), its dates and times as text, as PostgreSQL reads them from JSON
        (json.dumps's `default` hook per value cost more than the rest of the row)."""
        row = self.row()
        for name in ("started", "ended", "day", "received"):
            row[name] = row[name].isoformat()
        return row


# HeartbeatInterval's columns but the id; an IntervalDraft has each as an attribute.
INTERVAL_COLUMNS = [f.attname for f in HeartbeatInterval._meta.concrete_fields if not f.primary_key]


def heartbeats_record(
    project: Project, heartbeats: list[tuple[wire.Event, dict]]
) -> list[IntervalDraft]:
    """heartbeat_record for many heartbeats of one project, for a worker applying a
    batch of devices' chunks; each comes with its `device`, `cohort_id`,
    `software_version_id`, `hardware_version_id` and `source_event_id`. One INSERT for
    all, duplicates (of a stored interval, or within the batch) dropped. They are named
    before they are stored (_name_in_memory); positional ones whose ELF is not indexed
    yet wait for it, named by one resolve_heartbeats task for the batch. Returns the
    intervals stored."""
    from dre.health.tasks import resolve_heartbeats

    received = timezone.now()
    pairs = []
    for event, context in heartbeats:
        problem = _out_of_range(event.info)
        if problem:
            log.warning(
                "device %s: event %s has no health row: %s",
                context["device"].serial,
                context["source_event_id"],
                problem,
            )
            continue
        fields = _interval_fields(event)
        device = context["device"]
        draft = IntervalDraft(
            project=project,
            project_id=project.id,
            device_id=device.id,
            received=received,
            **context,
            **fields,
        )
        pairs.append((draft, event.info.metrics))
    registries = _name_in_memory(pairs)
    stored = _insert_new([interval for interval, _ in pairs])
    waiting = [i.pk for i in stored if i.state == HeartbeatInterval.State.AWAITING_SYMBOLS]
    if waiting:
        resolve_heartbeats.delay_on_commit(waiting)
    for group, registry in registries:
        stored_ones = [i for i in group if i.pk and i.state == HeartbeatInterval.State.RESOLVED]
        heartbeats_resolved(stored_ones, registry)
    return stored


def _name_in_memory(pairs: list[tuple[HeartbeatInterval, dict]]) -> list:
    """Name the intervals before they are stored, so most are written once: named maps
    with one registry read, positional values per build from its ELF when it is indexed
    (dre.health.resolution), else they wait for it. Returns (intervals, registry) pairs."""
    from dre.health.resolution import intervals_name

    named, builds = [], {}
    for interval, metrics in pairs:
        if interval.state != HeartbeatInterval.State.AWAITING_SYMBOLS:
            named.append((interval, metrics))
        else:
            build = (interval.build_id_prefix, interval.software_version_id)
            builds.setdefault(build, []).append(interval)
    groups = []
    if named:
        registry = _named_registry(named[0][0].project, [metrics for _, metrics in named])
        for interval, metrics in named:
            _apply_named(interval, registry, metrics)
        groups.append(([interval for interval, _ in named], registry))
    for group in builds.values():
        registry = intervals_name(group)
        if registry is not None:
            groups.append((group, registry))
    return groups


def _insert_new(intervals: list[IntervalDraft]) -> list[IntervalDraft]:
    """INSERT ... ON CONFLICT DO NOTHING in one statement; the intervals it stored, with
    their ids (the first of two with the same device, session and end)."""
    if not intervals:
        return []
    if connection.vendor != "postgresql":  # SQLite, for development: one by one
        return [i for i in intervals if _draft_insert_one(i)]
    # One JSON document for the rows, in the batch's order: of two intervals with the
    # same key the first is stored. Each is told by its event's id (one event, one
    # heartbeat), cheaper to read back than the key.
    found = insert_json_rows(
        HeartbeatInterval,
        [i.json_row() for i in intervals],
        conflict="ON CONFLICT DO NOTHING",
        returning=("id", "source_event_id"),
    )
    ids = {source: pk for pk, source in found}
    stored = []
    for interval in intervals:
        if interval.source_event_id in ids:
            interval.pk = ids[interval.source_event_id]
            stored.append(interval)
        else:
            log.info(
                "device %s: heartbeat ending %s is already stored",
                interval.device_id,
                interval.ended,
            )
    return stored


def _draft_insert_one(draft: IntervalDraft) -> bool:
    interval = HeartbeatInterval(**draft.row())
    if not _insert_one(interval):
        return False
    draft.pk = interval.pk
    return True


def _after_save(interval: HeartbeatInterval) -> None:
    from dre.health.tasks import resolve_heartbeats

    if interval.state == HeartbeatInterval.State.AWAITING_SYMBOLS:
        resolve_heartbeats.delay_on_commit([interval.pk])
    else:
        heartbeats_resolved([interval], interval._registry)


def heartbeats_resolved(intervals: list[HeartbeatInterval], registry: dict[str, Metric]) -> None:
    """What follows storing resolved intervals of one project: their days marked dirty,
    attribute metrics' latest values kept, and `health.heartbeats_recorded` announced
    (the one place it is published)."""
    if not intervals:
        return
    project_id = intervals[0].project_id
    days = {interval.day for interval in intervals}
    DirtyDay.objects.bulk_create(
        [DirtyDay(project_id=project_id, day=day) for day in days], ignore_conflicts=True
    )
    attributes_store(intervals, registry)
    data = {
        "intervals": [
            {
                "device_id": i.device_id,
                "device_serial": i.device.serial,
                "cohort_id": i.cohort_id,
                "software_version_id": i.software_version_id,
                "started": i.started.isoformat() if i.started else None,
                "ended": i.ended.isoformat(),
                "values": i.values,
            }
            for i in intervals
        ],
    }
    key = f"heartbeats:{min(i.pk for i in intervals)}-{max(i.pk for i in intervals)}"
    # Inside the transaction that stored the rows (dre/events.py): device monitors write
    # their observations in it, so a heartbeat and what it means for a threshold commit
    # together or not at all.
    publish(Event(EventType.HEALTH_HEARTBEATS_RECORDED, project_id, key, data))


def apply_registry(interval: HeartbeatInterval, registry: dict[str, Metric]) -> None:
    """Values outside a filtering metric's range move to `filtered`: kept, visible on the
    interval, but out of the rollups and attributes."""
    for key in list(interval.values):
        metric = registry.get(key)
        if metric and metric.filter_out_of_range and metric.out_of_range(interval.values[key]):
            interval.filtered[key] = interval.values.pop(key)
    interval._registry = registry


# Upsert that keeps the newest value: a heartbeat that arrives late (devices batch for
# hours) must not overwrite what a newer one said. Same text on PostgreSQL and SQLite.
ATTRIBUTE_UPSERT = """
INSERT INTO health_devicemetricvalue (project_id, device_id, key, value, time)
VALUES {rows}
ON CONFLICT (project_id, device_id, key) DO UPDATE
SET value = excluded.value, time = excluded.time
WHERE excluded.time >= health_devicemetricvalue.time
"""


def attributes_store(intervals: list[HeartbeatInterval], registry: dict[str, Metric]) -> None:
    latest: dict[tuple, tuple] = {}
    for interval in intervals:
        for key, value in interval.values.items():
            metric = registry.get(key)
            if value is None or metric is None or not metric.is_attribute:
                continue
            slot = (interval.project_id, interval.device_id, key)
            if slot not in latest or latest[slot][1] <= interval.ended:
                latest[slot] = (value, interval.ended)
    if not latest:
        return
    params = []
    for (project_id, device_id, key), (value, time) in latest.items():
        params += [project_id, device_id, key, _json_param(value), _time_param(time)]
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(latest))
    with connection.cursor() as cursor:
        cursor.execute(ATTRIBUTE_UPSERT.format(rows=rows), params)


def _json_param(value):
    return DeviceMetricValue._meta.get_field("value").get_db_prep_value(value, connection)


def _time_param(value):
    return connection.ops.adapt_datetimefield_value(value)


def _insert_one(interval: HeartbeatInterval) -> bool:
    try:
        with transaction.atomic():
            interval.save()
    except IntegrityError:
        log.info(
            "device %s: heartbeat ending %s is already stored", interval.device_id, interval.ended
        )
        return False
    return True


def _named_registry(project: Project, maps: list[dict]) -> dict[str, Metric]:
    """The registry entries of every key these named heartbeats carry, in one read."""
    types = {}
    for metrics in maps:
        for key, value in metrics.items():
            types.setdefault(key, _guess_type(value))
    return metrics_register(project, types)


def _apply_named(interval: HeartbeatInterval, registry: dict[str, Metric], metrics: dict) -> None:
    """Named values as sent; a scale known to the registry turns them into display units."""
    interval.values = {
        key: value_scaled(plain(value), registry[key].scale if key in registry else 1)
        for key, value in metrics.items()
    }
    apply_registry(interval, registry)
    interval.duration_ms = interval_duration_ms(interval.values)
    interval.started = interval.ended - timedelta(milliseconds=interval.duration_ms)
    interval.state = HeartbeatInterval.State.RESOLVED


def plain(value):
    """A value as JSON can hold it: bytes (CBOR allows them anywhere) become hex, as in
    ingest's event log."""
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def interval_duration_ms(values: dict) -> int:
    duration = values.get(SDK_INTERVAL_MS)
    return int(duration) if isinstance(duration, int | float) and duration > 0 else 0


def value_scaled(value, scale: float):
    if isinstance(value, bool) or not isinstance(value, int | float) or scale in (0, 1):
        return value
    return value / scale


def _guess_type(value) -> str:
    if isinstance(value, str):
        return Metric.Type.STRING
    if isinstance(value, float):
        return Metric.Type.GAUGE
    if isinstance(value, int) and value < 0:
        return Metric.Type.SIGNED
    return Metric.Type.GAUGE


def metrics_register(
    project: Project, types: dict[str, str], details: dict[str, dict] | None = None
) -> dict[str, Metric]:
    """The registry entries for these keys, created as devices first report them.

    `details` maps a key to registry fields the ELF knows (type, scale); an entry created
    from a named heartbeat gets them later, when an ELF names the same key. A key longer
    than the registry's 128 characters is no SDK metric's: its values stay in the
    interval as sent, outside the registry and the rollups.
    """
    details = details or {}
    types = {key: kind for key, kind in types.items() if len(key) <= METRIC_KEY_LENGTH}
    known = {m.key: m for m in Metric.objects.filter(project=project, key__in=list(types))}
    for key, kind in types.items():
        if key not in known:
            known[key] = _metric_create(project, key, kind, details.get(key, {}))
        elif details.get(key):
            _metric_update(known[key], details[key])
    return known


def _metric_create(project: Project, key: str, kind: str, extra: dict) -> Metric:
    builtin = BUILTIN_METRICS.get(key, {})
    fields = {
        "display_name": builtin.get("display_name", key),
        "type": kind,
        # A string has no timeseries to roll up: it is the device's latest value.
        "kind": Metric.Kind.ATTRIBUTE if kind == Metric.Type.STRING else Metric.Kind.TIMESERIES,
        **builtin,
        **extra,
    }
    try:
        with transaction.atomic():
            return Metric.objects.create(project=project, key=key, **fields)
    except IntegrityError:
        return Metric.objects.get(project=project, key=key)


# What a later ELF may correct in an existing entry; names, units and ranges a user set
# in the registry stay.
ELF_OWNED_FIELDS = ("type", "scale")


def _metric_update(metric: Metric, extra: dict) -> None:
    changed = {k: v for k, v in extra.items() if k in ELF_OWNED_FIELDS and getattr(metric, k) != v}
    if changed:
        Metric.objects.filter(pk=metric.pk).update(**changed)
        for field, value in changed.items():
            setattr(metric, field, value)


def reboot_record(event: wire.Event, context: dict) -> Reboot | None:
    info: wire.RebootEvent = event.info
    when, known = _event_time(event)
    reason = reboot_reason(info.reason)
    try:
        with transaction.atomic():
            reboot = Reboot.objects.create(
                **context,
                time=when,
                time_known=known,
                day=when.date(),
                reason=info.reason,
                reason_name=reason.name,
                unexpected=reason.unexpected,
                pc=info.pc,
                lr=info.lr,
                coredump_saved=info.coredump_saved,
            )
    except IntegrityError:
        return None
    day_mark_dirty(reboot.project_id, reboot.day)
    return reboot


def day_mark_dirty(project_id: int, day: date) -> None:
    """Ask for the day's rollups to be recomputed; marking twice is one mark."""
    DirtyDay.objects.bulk_create([DirtyDay(project_id=project_id, day=day)], ignore_conflicts=True)

"""Writes for devices and the versions they report.

Devices and versions appear the first time something mentions them; every
function here is an idempotent get-or-create that is safe under concurrent
uploads from the same device.

Every device request names its device and versions, and each round trip to the
database costs a request more than its work (bench/results/README.md): versions
and cohorts, rows that never change once created, are remembered per process,
and a device is found and marked seen by one statement.
"""

from __future__ import annotations

import re
import time

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import (
    DEFAULT_COHORT,
    Cohort,
    Device,
    HardwareVersion,
    SoftwareType,
    SoftwareVersion,
)
from dre.generations import RELEASES, generation_bump
from dre.sql import update_returning

# memfault-formats.md 2.3: the SDK's device id rule. Matched with fullmatch: `$`
# would also accept a trailing newline ("d-1\n", sent as %0A) and so a second device.
# A serial is never stripped or otherwise normalized: the SDK sends it verbatim, so
# anything outside the rule is a client bug that deserves a 400, not a guess.
DEVICE_SERIAL = re.compile(r"[-a-zA-Z0-9_]{1,128}")


class InvalidDeviceSerial(ValueError):
    pass


# Versions and cohorts are only ever created (a project's deletion removes them
# with the project, whose key the ingest refuses within 30 s too). A row is
# remembered once its transaction committed, so a rolled-back insert is never
# handed out; the time limit bounds what a deleted project leaves behind.
ROW_CACHE_SECONDS = 60
ROW_CACHE_SIZE = 10_000
_known_rows: dict[tuple, tuple[float, object]] = {}


def _get_or_create(model, **fields):
    """get_or_create that survives losing a race to a concurrent insert, remembered
    for ROW_CACHE_SECONDS once committed."""
    key = (model.__name__, *sorted((name, getattr(v, "pk", v)) for name, v in fields.items()))
    known = _known_rows.get(key)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    row = _fetch_or_create(model, **fields)
    transaction.on_commit(lambda: _remember(key, row))
    return row


def _remember(key: tuple, row) -> None:
    if len(_known_rows) >= ROW_CACHE_SIZE:
        _known_rows.clear()
    _known_rows[key] = (time.monotonic() + ROW_CACHE_SECONDS, row)


def row_cache_clear() -> None:
    _known_rows.clear()


def _fetch_or_create(model, **fields):
    # The row nearly always exists, so a plain read comes first: the savepoint that
    # guards the insert costs two more round trips.
    if (found := model.objects.filter(**fields).first()) is not None:
        return found
    try:
        with transaction.atomic():
            return model.objects.get_or_create(**fields)[0]
    except IntegrityError:
        return model.objects.get(**fields)


def cohort_get_default(project: Project) -> Cohort:
    key = ("default cohort", project.pk)
    known = _known_rows.get(key)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    try:
        cohort = Cohort.objects.get(project=project, slug=DEFAULT_COHORT)
    except Cohort.DoesNotExist:
        cohort = _fetch_or_create(Cohort, project=project, slug=DEFAULT_COHORT, name="Default")
    transaction.on_commit(lambda: _remember(key, cohort))
    return cohort


def hardware_version_get(project: Project, name: str | None) -> HardwareVersion | None:
    if not name:
        return None
    return _get_or_create(HardwareVersion, project=project, name=name[:128])


def software_version_get(
    project: Project, software_type: str | None, version: str | None
) -> SoftwareVersion | None:
    if not software_type or not version:
        return None
    kind = _get_or_create(SoftwareType, project=project, name=software_type[:128])
    return _get_or_create(SoftwareVersion, software_type=kind, version=version[:128])


def device_validate_serial(serial: str) -> str:
    if not isinstance(serial, str) or not DEVICE_SERIAL.fullmatch(serial):
        raise InvalidDeviceSerial(
            f"device serial {serial!r} must be 1-128 characters of letters, digits, '-' and '_'"
        )
    return serial


def device_seen(
    project: Project,
    serial: str,
    *,
    hardware_version: HardwareVersion | None = None,
    software_version: SoftwareVersion | None = None,
) -> Device:
    """Find or create the device and record what it last reported."""
    device_validate_serial(serial)
    updates = {"last_seen": timezone.now()}
    if hardware_version is not None:
        updates["hardware_version"] = hardware_version.pk
    if software_version is not None:
        updates["software_version"] = software_version.pk
    device = _device_update(project, serial, updates)
    if device is None:
        _device_create(project, serial)
        device = _device_update(project, serial, updates)
    return device


def devices_seen(seen: list[tuple[int, int | None, int | None]]) -> None:
    """Mark many devices seen now, each with the hardware and software version ids it
    reported (None: unchanged), in one statement: what device_seen does for one
    known device, for a group commit of requests (dre/batching.py)."""
    if not seen:
        return
    if connection.vendor != "postgresql":  # SQLite, for development: one by one
        for device_id, hardware, software in seen:
            changes = {"hardware_version": hardware, "software_version": software}
            updates = {name: value for name, value in changes.items() if value is not None}
            Device.objects.filter(pk=device_id).update(last_seen=timezone.now(), **updates)
        return
    table = connection.ops.quote_name(Device._meta.db_table)
    rows = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(seen))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET last_seen = %s, "
            "hardware_version_id = COALESCE(v.hw, d.hardware_version_id), "
            "software_version_id = COALESCE(v.sw, d.software_version_id) "
            f"FROM (VALUES {rows}) AS v (id, hw, sw) WHERE d.id = v.id",
            [timezone.now(), *(value for row in seen for value in row)],
        )


def device_versions_seen(
    device: Device,
    *,
    hardware_version: HardwareVersion | None = None,
    software_version: SoftwareVersion | None = None,
) -> None:
    """Record the versions a device reports; no write when they are the ones it has."""
    updates = {}
    if hardware_version is not None and device.hardware_version_id != hardware_version.pk:
        updates["hardware_version"] = hardware_version
    if software_version is not None and device.software_version_id != software_version.pk:
        updates["software_version"] = software_version
    if updates:
        Device.objects.filter(pk=device.pk).update(**updates)
        for field, value in updates.items():
            setattr(device, field, value)


def devices_seen_locked(project: Project, serials: list[str]) -> list[Device]:
    """The project's devices of these serials, marked seen now and locked (FOR UPDATE)
    in id order, in one statement: what device_seen does for each, for a worker that
    applies many devices' chunks in one transaction. Unknown serials are left out."""
    if connection.vendor != "postgresql":  # SQLite, for development: one by one, no locks
        found = Device.objects.filter(project=project, serial__in=serials).order_by("pk")
        return [_device_update(project, d.serial, {"last_seen": timezone.now()}) for d in found]
    table = connection.ops.quote_name(Device._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET last_seen = %s FROM (SELECT id FROM {table} "
            "WHERE project_id = %s AND serial = ANY(%s) ORDER BY id FOR UPDATE) AS s "
            "WHERE d.id = s.id "
            "RETURNING d.id, d.serial, d.cohort_id, d.hardware_version_id, d.software_version_id",
            [timezone.now(), project.pk, list(serials)],
        )
        rows = sorted(cursor.fetchall())
    names = ["id", "serial", "cohort_id", "hardware_version_id", "software_version_id"]
    devices = []
    ordered = [
        f.attname for f in Device._meta.concrete_fields if f.attname in [*names, "project_id"]
    ]
    for row in rows:
        known = dict(zip(names, row, strict=True), project_id=project.pk)
        device = Device.from_db(connection.alias, ordered, [known[name] for name in ordered])
        device.project = project
        devices.append(device)
    return devices


# What _device_update reads back: what callers use (the id to point at, the
# versions to compare); any other field is loaded if asked for.
_RETURNED = ["id", "cohort", "hardware_version", "software_version"]


def _device_update(project: Project, serial: str, updates: dict) -> Device | None:
    """Find the device and mark it seen in one round trip (UPDATE ... RETURNING).
    None when it does not exist yet."""
    rows = update_returning(
        Device.objects.filter(project=project, serial=serial), _RETURNED, **updates
    )
    if not rows:
        return None
    attname = {name: Device._meta.get_field(name).attname for name in [*_RETURNED, *updates]}
    known = {attname[name]: value for name, value in zip(_RETURNED, rows[0], strict=True)}
    known.update(project_id=project.pk, serial=serial)
    known.update((attname[name], value) for name, value in updates.items())
    ordered = [f.attname for f in Device._meta.concrete_fields if f.attname in known]
    device = Device.from_db(connection.alias, ordered, [known[name] for name in ordered])
    device.project = project
    return device


def _device_create(project: Project, serial: str) -> Device:
    try:
        with transaction.atomic():
            return Device.objects.create(
                project=project, serial=serial, cohort=cohort_get_default(project)
            )
    except IntegrityError:
        return Device.objects.get(project=project, serial=serial)


class UnknownDevices(ValueError):
    def __init__(self, serials: list[str]):
        super().__init__(f"no such devices in this project: {', '.join(serials)}")
        self.serials = serials


def cohort_get_or_create(project: Project, slug: str, name: str = "") -> Cohort:
    try:
        return Cohort.objects.get(project=project, slug=slug)
    except Cohort.DoesNotExist:
        return _get_or_create(Cohort, project=project, slug=slug, name=name or slug)


@transaction.atomic
def devices_move_to_cohort(project: Project, serials: list[str], cohort: Cohort) -> int:
    """Move the listed devices into `cohort`: all of them, or none if one is unknown."""
    if cohort.project_id != project.pk:
        raise ValueError("the cohort belongs to another project")
    for serial in serials:
        device_validate_serial(serial)
    devices = Device.objects.filter(project=project, serial__in=serials)
    missing = sorted(set(serials) - set(devices.values_list("serial", flat=True)))
    if missing:
        raise UnknownDevices(missing)
    generation_bump(RELEASES, project.pk)  # the devices' update answers change
    return devices.update(cohort=cohort)


@transaction.atomic
def devices_move_matching(
    project: Project,
    cohort: Cohort,
    *,
    hardware_version: str | None = None,
    software_version: tuple[str, str] | None = None,
    from_cohort: Cohort | None = None,
) -> int:
    """Move every device matching all the given attributes into `cohort`; at least one
    attribute is needed, so a forgotten filter cannot move the whole fleet."""
    if cohort.project_id != project.pk:
        raise ValueError("the cohort belongs to another project")
    if hardware_version is None and software_version is None and from_cohort is None:
        raise ValueError("name at least one attribute to match devices by")
    devices = Device.objects.filter(project=project)
    if hardware_version is not None:
        devices = devices.filter(hardware_version__name=hardware_version)
    if software_version is not None:
        software_type, version = software_version
        devices = devices.filter(
            software_version__software_type__name=software_type,
            software_version__version=version,
        )
    if from_cohort is not None:
        devices = devices.filter(cohort=from_cohort)
    generation_bump(RELEASES, project.pk)  # the devices' update answers change
    return devices.exclude(cohort=cohort).update(cohort=cohort)

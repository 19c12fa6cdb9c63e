"""Writes for devices and the versions they report.

Devices and versions appear the first time something mentions them; every
function here is an idempotent get-or-create that is safe under concurrent
uploads from the same device.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
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

# memfault-formats.md 2.3: the SDK's device id rule. Matched with fullmatch: `$`
# would also accept a trailing newline ("d-1\n", sent as %0A) and so a second device.
# A serial is never stripped or otherwise normalized: the SDK sends it verbatim, so
# anything outside the rule is a client bug that deserves a 400, not a guess.
DEVICE_SERIAL = re.compile(r"[-a-zA-Z0-9_]{1,128}")


class InvalidDeviceSerial(ValueError):
    pass


def _get_or_create(model, **fields):
    """get_or_create that survives losing a race to a concurrent insert.

    The row nearly always exists, so a plain read comes first: the savepoint that
    guards the insert costs two more round trips on every device request."""
    if (found := model.objects.filter(**fields).first()) is not None:
        return found
    try:
        with transaction.atomic():
            return model.objects.get_or_create(**fields)[0]
    except IntegrityError:
        return model.objects.get(**fields)


def cohort_get_default(project: Project) -> Cohort:
    try:
        return Cohort.objects.get(project=project, slug=DEFAULT_COHORT)
    except Cohort.DoesNotExist:
        return _get_or_create(Cohort, project=project, slug=DEFAULT_COHORT, name="Default")


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
    device = Device.objects.filter(project=project, serial=serial).first()
    if device is None:
        device = _device_create(project, serial)
    updates = {"last_seen": timezone.now()}
    if hardware_version is not None:
        updates["hardware_version"] = hardware_version
    if software_version is not None:
        updates["software_version"] = software_version
    Device.objects.filter(pk=device.pk).update(**updates)
    for field, value in updates.items():
        setattr(device, field, value)
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
    return devices.exclude(cohort=cohort).update(cohort=cohort)

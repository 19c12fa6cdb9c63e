"""Reads of devices, cohorts and versions, without creating anything."""

from __future__ import annotations

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType, SoftwareVersion


def hardware_version_find(project: Project, name: str) -> HardwareVersion | None:
    return HardwareVersion.objects.filter(project=project, name=name).first()


def software_type_find(project: Project, name: str) -> SoftwareType | None:
    return SoftwareType.objects.filter(project=project, name=name).first()


def cohort_find(project: Project, slug: str) -> Cohort | None:
    return Cohort.objects.filter(project=project, slug=slug).first()


def cohort_list(project: Project) -> list[Cohort]:
    return list(Cohort.objects.filter(project=project).order_by("slug"))


def device_find(project: Project, serial: str) -> Device | None:
    return Device.objects.filter(project=project, serial=serial).select_related("cohort").first()


def cohort_device_serials(cohort: Cohort) -> list[str]:
    return list(cohort.devices.order_by("serial").values_list("serial", flat=True))


def cohort_devices_on_version(cohort: Cohort, version: SoftwareVersion) -> int:
    """Devices of the cohort whose last report named this version."""
    return cohort.devices.filter(software_version=version).count()


def software_types_of(project: Project) -> list[SoftwareType]:
    return list(SoftwareType.objects.filter(project=project).order_by("name"))

"""Reads of devices, cohorts and versions, without creating anything."""

from __future__ import annotations

from django.db.models import Count

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


def cohort_device_counts(project: Project) -> dict[int, int]:
    """Devices per cohort id."""
    rows = Device.objects.filter(project=project).values("cohort").annotate(n=Count("pk"))
    return {row["cohort"]: row["n"] for row in rows}


def version_device_counts(project: Project, hardware_version=None) -> list[dict]:
    """Devices per (software version, cohort) by their last report: the rows of the
    version matrix. Devices that never named a version are left out."""
    devices = Device.objects.filter(project=project, software_version__isnull=False)
    if hardware_version is not None:
        devices = devices.filter(hardware_version=hardware_version)
    return list(
        devices.values(
            "software_version",
            "software_version__version",
            "software_version__software_type",
            "software_version__software_type__name",
            "cohort",
        ).annotate(n=Count("pk"))
    )


def cohort_devices(cohort: Cohort, *, limit: int = 200) -> list[Device]:
    return list(
        cohort.devices.select_related("software_version", "hardware_version").order_by(
            "-last_seen", "serial"
        )[:limit]
    )


def hardware_versions_of(project: Project) -> list[HardwareVersion]:
    return list(HardwareVersion.objects.filter(project=project).order_by("name"))

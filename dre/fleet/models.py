from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.versions import version_key

DEFAULT_COHORT = "default"


class HardwareVersion(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="hardware_versions")
    name = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="hardware_version_per_project")
        ]

    def __str__(self):
        return self.name


class SoftwareType(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="software_types")
    name = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="software_type_per_project")
        ]

    def __str__(self):
        return self.name


class SoftwareVersion(models.Model):
    """A version of one software type. Ordered by dre.fleet.versions, not by text."""

    software_type = models.ForeignKey(SoftwareType, models.CASCADE, related_name="versions")
    version = models.CharField(max_length=128)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["software_type", "version"], name="version_per_software_type"
            )
        ]

    def __str__(self):
        return f"{self.software_type.name} {self.version}"

    @property
    def sort_key(self) -> tuple:
        return version_key(self.version)


class Cohort(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="cohorts")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="cohort_slug_per_project")
        ]

    def __str__(self):
        return self.slug


class Device(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="devices")
    serial = models.CharField(max_length=128)
    hardware_version = models.ForeignKey(
        HardwareVersion, models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    software_version = models.ForeignKey(
        SoftwareVersion,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        help_text="The version the device last reported.",
    )
    cohort = models.ForeignKey(Cohort, models.PROTECT, related_name="devices")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "serial"], name="device_serial_per_project")
        ]
        # Active-device counts and the recently-seen list of fleet health's overview.
        indexes = [models.Index(fields=["project", "-last_seen"], name="device_last_seen")]

    def __str__(self):
        return self.serial

"""Releases, their payloads, and where they are deployed (memfault-formats.md 4.1)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType, SoftwareVersion
from dre.fleet.versions import version_key


class Release(models.Model):
    """A full release (any lower version -> version) or a delta (delta_from -> version)."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="releases")
    software_type = models.ForeignKey(SoftwareType, models.PROTECT, related_name="releases")
    version = models.ForeignKey(SoftwareVersion, models.PROTECT, related_name="releases")
    delta_from = models.ForeignKey(
        SoftwareVersion, models.PROTECT, null=True, blank=True, related_name="delta_releases"
    )
    revision = models.CharField(max_length=128, blank=True)
    notes = models.TextField(blank=True)
    min_version = models.CharField(
        max_length=128, blank=True, help_text="Devices below this version are not offered it."
    )
    must_pass_through = models.BooleanField(default=False)
    extra_info = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version"],
                condition=models.Q(delta_from__isnull=True),
                name="one_full_release_per_version",
            ),
            models.UniqueConstraint(
                fields=["delta_from", "version"], name="one_delta_release_per_pair"
            ),
        ]

    def __str__(self):
        if self.delta_from_id:
            return f"{self.delta_from.version} → {self.version.version}"
        return self.version.version

    @property
    def is_delta(self) -> bool:
        return self.delta_from_id is not None

    @property
    def sort_key(self) -> tuple:
        return version_key(self.version.version)


class Artifact(models.Model):
    """One payload of a release, for one hardware version; the bytes are a blob."""

    release = models.ForeignKey(Release, models.CASCADE, related_name="artifacts")
    hardware_version = models.ForeignKey(HardwareVersion, models.PROTECT, related_name="+")
    blob = models.CharField(max_length=255)
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64)
    firmware_type = models.CharField(max_length=32, default="standalone")
    extra_info = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "hardware_version", "firmware_type"],
                name="one_artifact_per_release_hardware_and_type",
            )
        ]

    def __str__(self):
        return f"{self.release} for {self.hardware_version}"


class CohortPolicy(models.Model):
    """What a cohort allows its rollouts, and its rollout-safety rule (dre.releases.safety).

    A cohort without a policy allows no downgrades and watches its staged rollouts with
    the default rule.
    """

    cohort = models.OneToOneField(Cohort, models.CASCADE, related_name="release_policy")
    allow_downgrades = models.BooleanField(default=False)
    safety_enabled = models.BooleanField(
        default=True, help_text="Halt a staged rollout by itself when the release is worse."
    )
    min_hours = models.FloatField(
        default=500.0, help_text="Operational hours on the new release before the rule acts."
    )
    min_devices = models.PositiveIntegerField(
        default=30, help_text="Devices on the new release before the rule acts."
    )
    margin = models.FloatField(
        default=0.25, help_text="How much worse (reboots per hour) still counts as as good."
    )
    alpha = models.FloatField(
        default=0.05, help_text="Bound on the chance of halting a release that is not worse."
    )
    auto_widen = models.BooleanField(
        default=False, help_text="Widen 5, 20, 50, 100 % when shown at least as good."
    )
    widen_after_hours = models.FloatField(
        default=24.0, help_text="Hours at a step before the rule may widen it."
    )

    def __str__(self):
        return f"policy of {self.cohort}"


class Deployment(models.Model):
    """A release activated in one cohort, for all its devices or a staged share of them."""

    class Type(models.TextChoices):
        NORMAL = "normal"
        STAGED_ROLLOUT = "staged_rollout"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        HALTED = "halted"  # stopped by a rollout rule, not a person
        PULLED = "pulled"

    project = models.ForeignKey(Project, models.CASCADE, related_name="deployments")
    release = models.ForeignKey(Release, models.CASCADE, related_name="deployments")
    cohort = models.ForeignKey(Cohort, models.CASCADE, related_name="deployments")
    type = models.CharField(max_length=16, choices=Type.choices)
    rollout_percent = models.PositiveSmallIntegerField(default=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The staged devices are those whose hash of (salt, serial) falls under the
    # percentage: a fixed salt keeps them staged as the percentage grows.
    salt = models.UUIDField(default=uuid.uuid4, editable=False)
    # The safety rule weighs the evidence gathered since this moment: a person who
    # resumes a halted rollout restarts the test rather than re-reading what halted it.
    watched_since = models.DateTimeField(null=True, blank=True)
    # A person overrode the rule: it neither halts nor widens this deployment again.
    rule_overridden = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "cohort"],
                condition=~models.Q(status="pulled"),
                name="one_live_deployment_per_release_and_cohort",
            )
        ]
        indexes = [models.Index(fields=["cohort", "status"])]

    def __str__(self):
        return f"{self.release} in {self.cohort}"


class DeploymentLog(models.Model):
    """Who changed a deployment, how, and why."""

    class Action(models.TextChoices):
        ACTIVATED = "activated"
        PAUSED = "paused"
        RESUMED = "resumed"
        WIDENED = "widened"
        HALTED = "halted"
        OVERRIDDEN = "overridden"  # resumed, and the rule told to stand aside
        PULLED = "pulled"

    deployment = models.ForeignKey(Deployment, models.CASCADE, related_name="log")
    action = models.CharField(max_length=16, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=200, help_text="Who, as shown: a user or a token.")
    from_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    to_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.action} by {self.actor}"


class UpdateCheck(models.Model):
    """Every answer to a device's `releases/latest` question."""

    class Outcome(models.TextChoices):
        OFFERED = "offered"
        UP_TO_DATE = "up_to_date"

    project = models.ForeignKey(Project, models.CASCADE, related_name="update_checks")
    device = models.ForeignKey(Device, models.CASCADE, related_name="update_checks")
    # No index of its own: (cohort, software_type, at) below serves it. Each index is
    # one more write per answer recorded.
    cohort = models.ForeignKey(Cohort, models.CASCADE, related_name="+", db_index=False)
    software_type = models.ForeignKey(SoftwareType, models.CASCADE, related_name="+")
    hardware_version = models.ForeignKey(HardwareVersion, models.CASCADE, related_name="+")
    current_version = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    release = models.ForeignKey(  # no index of its own either: (release, at) serves it
        Release, models.SET_NULL, null=True, blank=True, related_name="offers", db_index=False
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["release", "at"]),
            models.Index(fields=["cohort", "software_type", "at"]),
        ]

    def __str__(self):
        return f"{self.device} asked: {self.outcome}"

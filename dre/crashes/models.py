from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dre.accounts.models import Project
from dre.crashes.grouping import RuleError, Rules
from dre.fleet.models import Device, HardwareVersion, SoftwareVersion
from dre.symbols.models import SymbolFile


class CoredumpManager(models.Manager):
    def get_queryset(self):
        # A row's bytes (`raw`) are read only by coredump_bytes: lists and lookups of
        # coredumps never carry up to INLINE_COREDUMP_BYTES each.
        return super().get_queryset().defer("raw")


def _found_later(model):
    """A coredump's link that the worker fills in: indexed where set (Coredump.Meta)."""
    return models.ForeignKey(
        model, models.SET_NULL, null=True, blank=True, related_name="coredumps", db_index=False
    )


class Coredump(models.Model):
    """The raw crash bytes as received, and how far processing got with them."""

    class State(models.TextChoices):
        RECEIVED = "received"  # stored, processing queued
        PROCESSING = "processing"  # a worker is symbolicating it
        AWAITING_SYMBOLS = "awaiting_symbols"  # parsed; its ELF is not uploaded yet
        SYMBOLICATED = "symbolicated"  # has a Trace, grouping queued
        GROUPED = "grouped"  # its Trace belongs to an Issue
        FAILED = "failed"  # see `error`; the blob is kept

    class Source(models.TextChoices):
        CHUNKS = "chunks"
        UPLOAD = "upload"  # POST /api/v0/upload/coredump, raw body
        PREPARED_UPLOAD = "prepared_upload"  # memfault-cli's prepare / PUT / commit
        API = "api"

    project = models.ForeignKey(Project, models.CASCADE, related_name="coredumps")
    device = _found_later(Device)
    software_version = _found_later(SoftwareVersion)
    hardware_version = _found_later(HardwareVersion)
    symbol_file = _found_later(SymbolFile)

    class Encoding(models.TextChoices):
        RAW = "", "raw"
        RLE = "rle", "Memfault RLE"  # as the device sent it; expanded by the worker
        # Raw bytes kept in the row (`raw`), compressed by dre (see _received_row)
        LZ4 = "lz4", "LZ4 frame"

    blob = models.CharField(max_length=255, blank=True)
    # A small coredump written by group commit (coredump_receive) keeps its bytes
    # here instead of in a blob: durable with the row's commit, no file per request.
    raw = models.BinaryField(null=True, blank=True, editable=False)
    size = models.BigIntegerField(help_text="Bytes stored, as sent.")
    md5 = models.CharField(max_length=32)
    # SHA-256 of the stored bytes: a re-sent coredump is recognized by it (see
    # coredump_receive), per project and device, within DEDUP_WINDOW_SECONDS.
    content_hash = models.CharField(max_length=64, blank=True)
    encoding = models.CharField(max_length=8, choices=Encoding.choices, blank=True, default="")
    expanded_size = models.BigIntegerField(null=True, blank=True, help_text="Bytes once expanded.")
    source = models.CharField(max_length=32, choices=Source.choices)
    format = models.CharField(max_length=32, blank=True)
    build_id = models.CharField(max_length=64, blank=True)
    trace_reason = models.PositiveIntegerField(null=True, blank=True)
    received = models.DateTimeField(default=timezone.now, db_index=True)
    captured = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    state_changed = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True, help_text="Where the last failure happened.")
    # When the next stage's message was handed to the broker; None while it was not
    # (the broker was down), so the sweeper publishes it: an outbox in the row.
    queued = models.DateTimeField(null=True, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)  # see dre/leases.py

    objects = CoredumpManager()

    class Meta:
        # A row as ingest writes it names no device, version or symbol file yet (the
        # worker reads them from the coredump): partial indexes spare every upload
        # five index entries of NULL. Lookups by a value still use them.
        indexes = [
            models.Index(fields=["state", "state_changed"]),
            models.Index(fields=["build_id"], name="coredump_build_id"),
            models.Index(
                fields=["project", "device", "content_hash", "-received"],
                name="coredump_resent",
                condition=Q(device__isnull=False),
            ),
            *(
                models.Index(
                    fields=[name],
                    name=f"coredump_{name}_set",
                    condition=Q(**{f"{name}__isnull": False}),
                )
                for name in ("device", "software_version", "hardware_version", "symbol_file")
            ),
        ]

    def __str__(self):
        return f"coredump {self.pk} ({self.state})"


class Issue(models.Model):
    """Traces grouped by fingerprint: crashes (coredumps), or trace events the firmware
    recorded itself (dre.diagnostics), which share the workflow, counts and alerts."""

    class Kind(models.TextChoices):
        CRASH = "crash"
        TRACE_EVENT = "trace_event"

    class State(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"
        MUTED = "muted"  # never reopens by itself
        MERGED = "merged"  # its fingerprints now feed `merged_into`

    class Resolution(models.TextChoices):
        NOW = "now", "resolved"  # any later trace reopens it
        IN_VERSION = "in_version", "resolved in version"  # traces newer than resolved_in reopen
        IN_NEXT_VERSION = "in_next_version", "resolved in the next version"

    project = models.ForeignKey(Project, models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CRASH)
    title = models.CharField(max_length=300)
    # The top in-app functions of the fingerprint that created it ("a ← b ← c"): what
    # tells apart issues with the same title in the list, as Sentry's culprit does.
    culprit = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    trace_count = models.PositiveIntegerField(default=0)
    device_count = models.PositiveIntegerField(default=0)
    software_versions = models.ManyToManyField(
        SoftwareVersion, through="IssueVersion", blank=True, related_name="issues"
    )
    hardware_versions = models.ManyToManyField(
        HardwareVersion, through="IssueHardware", blank=True, related_name="issues"
    )
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    # A version string, not a row: a fix may be released in a version no device ran yet.
    resolved_in = models.CharField(max_length=128, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    regressed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="merged_issues"
    )

    class Meta:
        indexes = [
            models.Index(fields=["project", "state", "-last_seen", "-id"]),
            models.Index(fields=["project", "-last_seen", "-id"]),
        ]

    def __str__(self):
        return self.title

    @property
    def regressed(self) -> bool:
        return self.regressed_at is not None and self.state == self.State.OPEN


class IssueVersion(models.Model):
    """Traces of an issue per software version (the issue page's chart and filter)."""

    issue = models.ForeignKey(Issue, models.CASCADE)
    software_version = models.ForeignKey(SoftwareVersion, models.CASCADE)
    trace_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "software_version"], name="issue_version_once")
        ]

    def __str__(self):
        return f"issue {self.issue_id} in {self.software_version_id}"


class IssueHardware(models.Model):
    """Traces of an issue per hardware version."""

    issue = models.ForeignKey(Issue, models.CASCADE)
    hardware_version = models.ForeignKey(HardwareVersion, models.CASCADE)
    trace_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "hardware_version"], name="issue_hardware_once"
            )
        ]

    def __str__(self):
        return f"issue {self.issue_id} on {self.hardware_version_id}"


class IssueDay(models.Model):
    """Traces of an issue per UTC day, kept as they arrive so charts never scan traces."""

    issue = models.ForeignKey(Issue, models.CASCADE, related_name="days")
    day = models.DateField()
    trace_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "day"], name="issue_day_once")]

    def __str__(self):
        return f"issue {self.issue_id} on {self.day}"


class IssueHour(models.Model):
    """Traces of an issue per UTC hour: the issue list's 24-hour sparkline reads at most
    24 rows per issue instead of counting traces. The hour is a number (hours since the
    Unix epoch), so the list turns rows into buckets without parsing a datetime each."""

    issue = models.ForeignKey(Issue, models.CASCADE, related_name="hours")
    hour = models.PositiveIntegerField(help_text="Hours since 1970-01-01T00:00Z.")
    trace_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "hour"], name="issue_hour_once")]

    def __str__(self):
        return (
            f"issue {self.issue_id} at {datetime.fromtimestamp(self.hour * 3600, UTC):%Y-%m-%d %H}h"
        )

    @staticmethod
    def hour_of(moment: datetime) -> int:
        """The hour a moment falls in, counted from the Unix epoch."""
        return int(moment.timestamp() // 3600)


class IssueComment(models.Model):
    issue = models.ForeignKey(Issue, models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    text = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"comment on issue {self.issue_id}"


class IssueActivity(models.Model):
    """Who did what to an issue, and what the pipeline did (actor None)."""

    class Kind(models.TextChoices):
        CREATED = "created"
        RESOLVED = "resolved"
        REOPENED = "reopened"
        REGRESSED = "regressed"
        MUTED = "muted"
        UNMUTED = "unmuted"
        MERGED = "merged"  # this issue absorbed others (data: their ids)
        MERGED_INTO = "merged_into"  # this issue went into another (data: its id)
        COMMENTED = "commented"

    issue = models.ForeignKey(Issue, models.CASCADE, related_name="activity")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.kind} on issue {self.issue_id}"


class GroupingRules(models.Model):
    """A project's grouping rules (dre.crashes.grouping.Rules), edited on its settings page."""

    project = models.OneToOneField(Project, models.CASCADE, related_name="grouping_rules")
    not_in_app = models.TextField(
        blank=True,
        help_text="In-app rules, one per line, after the grouping config's defaults: "
        "+app:NAME or -app:NAME (functions), function:NAME -app, file:PATH +app; "
        "* wildcards; the last matching rule wins.",
    )
    ignore_functions = models.TextField(
        blank=True, help_text="Function patterns, one per line, left out of fingerprints."
    )
    max_frames = models.PositiveSmallIntegerField(default=5)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"grouping rules of {self.project}"

    def clean(self):
        try:
            Rules.parse(self.not_in_app)
        except RuleError as exc:
            raise ValidationError({"not_in_app": str(exc)}) from None


class IssueFingerprint(models.Model):
    """Which issue a fingerprint's traces go to. Unique per project, so racing
    workers that compute the same fingerprint end up on one issue."""

    project = models.ForeignKey(Project, models.CASCADE)
    fingerprint = models.CharField(max_length=64)
    issue = models.ForeignKey(Issue, models.CASCADE, related_name="fingerprints")
    grouping_config = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "fingerprint"], name="fingerprint_per_project"
            )
        ]

    def __str__(self):
        return self.fingerprint


class IssueDevice(models.Model):
    """One row per device an issue was seen on, so device_count stays exact."""

    issue = models.ForeignKey(Issue, models.CASCADE)
    device = models.ForeignKey(Device, models.CASCADE)
    trace_count = models.PositiveIntegerField(default=0)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "device"], name="issue_device_once")
        ]

    def __str__(self):
        return f"issue {self.issue_id} on device {self.device_id}"


class Trace(models.Model):
    """One processed crash: threads, frames, registers, fault."""

    coredump = models.OneToOneField(Coredump, models.CASCADE, related_name="trace")
    project = models.ForeignKey(Project, models.CASCADE, related_name="traces")
    issue = models.ForeignKey(Issue, models.SET_NULL, null=True, blank=True, related_name="traces")
    title = models.CharField(max_length=300)
    data = models.JSONField(help_text="symbolicator.Trace.to_dict()")
    fingerprint = models.CharField(max_length=64, blank=True)
    grouping = models.JSONField(default=dict, help_text="Fingerprint parts with their hints.")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["issue", "-created"])]

    def __str__(self):
        return self.title

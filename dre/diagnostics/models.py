"""What devices record about themselves besides crashes and metrics: trace events, logs
and custom data recordings (memfault-formats.md §2.5.3-2.5.5).

Rows point at ingest's events by id only (`source_event_id`). A trace event joins an
Issue of the crashes app, which owns issues: the link is set from the id its grouping
service hands back, never by writing crashes' tables.
"""

from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.crashes.models import Coredump, Issue
from dre.fleet.models import Device, HardwareVersion, SoftwareVersion


class State(models.TextChoices):
    RESOLVED = "resolved"
    AWAITING_SYMBOLS = "awaiting_symbols"  # needs the build's ELF, not uploaded yet


class _Recorded(models.Model):
    """What every recorded row shares: who sent it, when, from which build."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, models.CASCADE, related_name="+")
    time = models.DateTimeField(help_text="Capture time; the receive time when unknown.")
    time_known = models.BooleanField(default=True)
    received = models.DateTimeField(default=timezone.now)
    software_version = models.ForeignKey(
        SoftwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hardware_version = models.ForeignKey(
        HardwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    build_id_prefix = models.CharField(max_length=40, blank=True)
    source_event_id = models.BigIntegerField()

    class Meta:
        abstract = True


class TraceEvent(_Recorded):
    """A trace the firmware recorded itself (MEMFAULT_TRACE_EVENT*): a user reason from
    the ELF's MfltTraceReasonUser enum, optional PC/LR, status code and log."""

    reason = models.BigIntegerField(help_text="Index into eMfltTraceReasonUser.")
    reason_name = models.CharField(max_length=128, blank=True)
    status_code = models.BigIntegerField(null=True, blank=True)
    pc = models.BigIntegerField(null=True, blank=True)
    lr = models.BigIntegerField(null=True, blank=True)
    # {"address", "function", "file", "line", "status"}: symbolicated through the ELF.
    pc_location = models.JSONField(null=True, blank=True)
    lr_location = models.JSONField(null=True, blank=True)
    log = models.JSONField(null=True, blank=True, help_text="symbolicator.RenderedLog")
    state = models.CharField(max_length=24, choices=State.choices)
    issue = models.ForeignKey(Issue, models.SET_NULL, null=True, blank=True, related_name="+")
    fingerprint = models.CharField(max_length=64, blank=True)
    grouping = models.JSONField(default=dict, help_text="Fingerprint parts with their hints.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_event_id"], name="one_trace_event_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["project", "device", "-time"]),
            models.Index(fields=["issue", "-time"]),
            models.Index(fields=["project", "state"]),
        ]

    def __str__(self):
        return f"trace event {self.reason_name or self.reason} on {self.device_id}"


class LogLine(_Recorded):
    """One log line: preformatted text, or a compact log rendered through `log_fmt`.

    Lines of a log message (the SDK's collected log buffer) sent right after a coredump
    of the same device belong to it and show on its trace page (`coredump`)."""

    class Level(models.IntegerChoices):
        # eMemfaultPlatformLogLevel (SDK components/include/memfault/core/platform/debug_log.h)
        DEBUG = 0
        INFO = 1
        WARNING = 2
        ERROR = 3

    position = models.PositiveIntegerField(help_text="Order within its event.")
    level = models.PositiveIntegerField()
    compact = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=24, blank=True, help_text="symbolicator.LogStatus")
    detail = models.JSONField(default=dict, help_text="format id, arguments, file, line")
    state = models.CharField(max_length=24, choices=State.choices)
    collected = models.BooleanField(default=False, help_text="From a log message (buffer).")
    coredump = models.ForeignKey(Coredump, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_event_id", "position"], name="one_log_line_per_place"
            )
        ]
        indexes = [
            models.Index(fields=["project", "device", "-time"]),
            models.Index(fields=["project", "device", "-source_event_id"]),
            models.Index(fields=["coredump", "time"]),
            models.Index(fields=["project", "state"]),
        ]

    def __str__(self):
        return self.text[:80]

    @property
    def level_name(self) -> str:
        return self.Level(self.level).label if self.level in self.Level.values else str(self.level)


class Recording(_Recorded):
    """A custom data recording: bytes in blob storage with their MIME types and reason."""

    reason = models.CharField(max_length=256, blank=True)
    mimetypes = models.JSONField(default=list)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    blob = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_event_id"], name="one_recording_per_event"
            )
        ]
        indexes = [models.Index(fields=["project", "device", "-time"])]

    def __str__(self):
        return f"recording {self.reason or self.pk} from {self.device_id}"

    @property
    def content_type(self) -> str:
        return self.mimetypes[0] if self.mimetypes else "application/octet-stream"

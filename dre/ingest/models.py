from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.crashes.models import Coredump
from dre.fleet.models import Device, HardwareVersion, SoftwareVersion


class Upload(models.Model):
    """memfault-cli's prepared upload: a one-time PUT URL, then a commit call."""

    class Kind(models.TextChoices):
        COREDUMP = "COREDUMP"
        SYMBOL_FILE = "SYMBOL_FILE"
        OTA_PAYLOAD = "OTA_PAYLOAD"

    class State(models.TextChoices):
        PENDING = "pending"  # URL handed out, no bytes yet
        UPLOADED = "uploaded"  # bytes stored, waiting for the commit
        COMMITTED = "committed"

    project = models.ForeignKey(Project, models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    declared_size = models.BigIntegerField(null=True, blank=True)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    blob = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()

    def __str__(self):
        return f"{self.kind} upload {self.pk} ({self.state})"


class UploadPart(models.Model):
    """One part of a multipart upload (memfault-formats.md 3.2), joined on completion."""

    upload = models.ForeignKey(Upload, models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    blob = models.CharField(max_length=255)
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upload", "number"], name="one_blob_per_upload_part")
        ]

    def __str__(self):
        return f"part {self.number} of upload {self.upload_id}"


class ChunkStream(models.Model):
    """A device's partly reassembled message, kept between chunk requests."""

    device = models.OneToOneField(Device, models.CASCADE, related_name="chunk_stream")
    total_length = models.PositiveIntegerField(null=True, blank=True)
    buffer = models.BinaryField(default=b"")
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"chunk stream of device {self.device_id}"


class DeviceMessage(models.Model):
    """Every message a device sent through chunks, accepted or not.

    Coredump messages point at their Coredump (whose blob holds the bytes);
    other messages keep their bytes here, so nothing a device sent is lost.
    """

    class Kind(models.TextChoices):
        COREDUMP = "coredump"
        EVENT = "event"
        LOG = "log"
        CDR = "cdr"
        UNKNOWN = "unknown"

    class Status(models.TextChoices):
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    project = models.ForeignKey(Project, models.CASCADE, related_name="device_messages")
    device = models.ForeignKey(Device, models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True)
    raw = models.BinaryField(default=b"", blank=True)
    coredump = models.ForeignKey(Coredump, models.SET_NULL, null=True, blank=True)
    received = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.kind} from {self.device} ({self.status})"


class Event(models.Model):
    """A decoded CBOR event: heartbeat, reboot, trace event, logs or CDR."""

    class Kind(models.TextChoices):
        HEARTBEAT = "heartbeat"
        REBOOT = "reboot"
        TRACE = "trace"
        LOGS = "logs"
        CDR = "cdr"
        OTHER = "other"

    project = models.ForeignKey(Project, models.CASCADE, related_name="events")
    device = models.ForeignKey(Device, models.CASCADE, related_name="events")
    message = models.ForeignKey(DeviceMessage, models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    captured = models.DateTimeField(null=True, blank=True)
    received = models.DateTimeField(default=timezone.now)
    software_version = models.ForeignKey(
        SoftwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hardware_version = models.ForeignKey(
        HardwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["device", "kind", "-received"])]

    def __str__(self):
        return f"{self.kind} from {self.device}"


class PendingChunks(models.Model):
    """The chunks of one accepted request, durable before the device got its 202 and
    applied by a worker (dre.ingest.pending.pending_chunks_apply), which deletes the
    row in the transaction that stores what they held.

    Only requests whose chunks are whole, well-formed event messages wait here (a
    heartbeat): what the request could refuse it has refused, so applying them later
    changes no answer. `chunks` holds the request's chunks as sent, each behind its
    length (4 bytes, big-endian).
    """

    # No index of its own: (project, device_serial, id) below serves it, and each
    # index is one more entry every heartbeat request writes.
    project = models.ForeignKey(Project, models.CASCADE, related_name="+", db_index=False)
    device_serial = models.CharField(max_length=128)
    chunks = models.BinaryField()
    received = models.DateTimeField(default=timezone.now)
    queued = models.DateTimeField(null=True, blank=True)  # the outbox, as Coredump.queued

    class Meta:
        indexes = [
            models.Index(fields=["project", "device_serial", "id"]),
            models.Index(fields=["queued"]),
        ]

    def __str__(self):
        return f"chunks from {self.device_serial} waiting since {self.received}"

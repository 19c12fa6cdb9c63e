from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import SoftwareVersion


class SymbolFile(models.Model):
    """An ELF uploaded by CI, identified by its build id, attached to a software version."""

    class State(models.TextChoices):
        RECEIVED = "received"
        INDEXING = "indexing"
        READY = "ready"
        FAILED = "failed"

    project = models.ForeignKey(Project, models.CASCADE, related_name="symbol_files")
    software_version = models.ForeignKey(
        SoftwareVersion, models.SET_NULL, null=True, blank=True, related_name="symbol_files"
    )
    build_id = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    blob = models.CharField(max_length=255, help_text="Storage name of the ELF as uploaded.")
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32)
    index_blob = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    state_changed = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True, help_text="Where the last failure happened.")
    attempts = models.PositiveIntegerField(default=0)
    queued = models.DateTimeField(null=True, blank=True)  # None: not handed to the broker yet
    lease_expires = models.DateTimeField(null=True, blank=True)  # see dre/leases.py
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "build_id"],
                condition=~models.Q(build_id=""),
                name="one_symbol_file_per_build_id",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.build_id or 'no build id'})"

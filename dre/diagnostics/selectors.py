"""Reads of trace events, logs and recordings, for pages, the API and other apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, Max, Min, When

from dre.accounts.models import Project
from dre.diagnostics.models import LogLine, Recording, TraceEvent
from dre.fleet.models import Device

LOG_LINES_PER_EVENT = 500
LEVEL_LETTERS = {0: "D", 1: "I", 2: "W", 3: "E"}


def device_trace_events(device: Device, *, limit: int = 100) -> list[TraceEvent]:
    return list(
        TraceEvent.objects.filter(project_id=device.project_id, device=device)
        .select_related("issue")
        .order_by("-time", "-id")[:limit]
    )


@dataclass
class LogBatch:
    """One log event of a device: what the timeline shows as one entry, with the first
    lines as a preview (`log_batches_fill`)."""

    source_event_id: int
    time: datetime
    collected: bool
    count: int
    worst_level: int
    lines: list[tuple[int, str]] = field(default_factory=list)  # (level, text)

    @property
    def preview(self) -> str:
        """The preview lines as one text ("E flash write failed"): a timeline shows dozens
        of these, and one string per entry renders far faster than a row per line."""
        return "\n".join(f"{LEVEL_LETTERS.get(level, '?')} {text}" for level, text in self.lines)


def device_log_batches(device: Device, *, limit: int = 100) -> list[LogBatch]:
    """The device's newest log events, newest first, without their lines; lines captured
    with a coredump are on that coredump's trace page instead. One grouped query."""
    heads = (
        LogLine.objects.filter(project_id=device.project_id, device=device, coredump=None)
        .values("source_event_id")
        .annotate(
            first=Min("time"),
            count=Count("id"),
            worst=Max("level"),
            collected=Max(Case(When(collected=True, then=1), default=0)),
        )
        .order_by("-source_event_id")[:limit]
    )
    return [
        LogBatch(h["source_event_id"], h["first"], bool(h["collected"]), h["count"], h["worst"])
        for h in heads
    ]


def log_batches_fill(batches: list[LogBatch], project_id: int, *, preview: int = 5) -> None:
    """Load the first `preview` lines of each batch (one query for all of them)."""
    by_event = {b.source_event_id: b for b in batches}
    lines = (
        LogLine.objects.filter(
            project_id=project_id, source_event_id__in=list(by_event), position__lt=preview
        )
        .order_by("source_event_id", "position")
        .values_list("source_event_id", "level", "text")
    )
    for source_event_id, level, text in lines:
        by_event[source_event_id].lines.append((level, text))


def coredump_log_lines(coredump_id: int) -> list[LogLine]:
    """The log buffer the device sent with this coredump, oldest first."""
    return list(
        LogLine.objects.filter(coredump_id=coredump_id).order_by("source_event_id", "position")[
            : LOG_LINES_PER_EVENT * 4
        ]
    )


def device_recordings(device: Device, *, limit: int = 100) -> list[Recording]:
    return list(
        Recording.objects.filter(project_id=device.project_id, device=device).order_by(
            "-time", "-id"
        )[:limit]
    )


def recording_get(project: Project, pk: int) -> Recording | None:
    return Recording.objects.filter(project=project, pk=pk).first()


def issue_trace_events(issue_ids: list[int], *, limit: int = 50) -> list[TraceEvent]:
    """The newest occurrences of a trace event issue (and of issues merged into it)."""
    return list(
        TraceEvent.objects.filter(issue_id__in=issue_ids)
        .select_related("device", "software_version")
        .order_by("-time", "-id")[:limit]
    )


def trace_events(project: Project, *, device: Device | None = None, issue_id: int | None = None):
    """A queryset for API listing: the project's trace events, optionally narrowed."""
    rows = TraceEvent.objects.filter(project=project).select_related("device")
    if device is not None:
        rows = rows.filter(device=device)
    if issue_id is not None:
        rows = rows.filter(issue_id=issue_id)
    return rows


def log_lines(project: Project, *, device: Device | None = None):
    rows = LogLine.objects.filter(project=project).select_related("device")
    return rows.filter(device=device) if device is not None else rows


def recordings(project: Project, *, device: Device | None = None):
    rows = Recording.objects.filter(project=project).select_related("device")
    return rows.filter(device=device) if device is not None else rows

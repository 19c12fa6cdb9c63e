"""Reads of trace events, logs and recordings, for pages, the API and other apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dre.accounts.models import Project
from dre.diagnostics.models import LogLine, Recording, TraceEvent
from dre.fleet.models import Device

LOG_LINES_PER_EVENT = 500


def device_trace_events(device: Device, *, limit: int = 100) -> list[TraceEvent]:
    return list(
        TraceEvent.objects.filter(project_id=device.project_id, device=device)
        .select_related("issue")
        .order_by("-time", "-id")[:limit]
    )


@dataclass
class LogBatch:
    """The lines of one log event: what the device timeline shows as one entry."""

    source_event_id: int
    time: datetime
    collected: bool
    lines: list[LogLine] = field(default_factory=list)

    @property
    def worst_level(self) -> int:
        return max((line.level for line in self.lines), default=0)


def device_log_batches(device: Device, *, limit: int = 100) -> list[LogBatch]:
    """The device's newest log events with their lines, newest first; lines captured with
    a coredump are on that coredump's trace page instead."""
    events = list(
        LogLine.objects.filter(project_id=device.project_id, device=device, coredump=None)
        .order_by("-source_event_id")
        .values_list("source_event_id", flat=True)
        .distinct()[:limit]
    )
    lines = LogLine.objects.filter(project_id=device.project_id, source_event_id__in=events)
    return _batches(lines.order_by("-source_event_id", "position"))


def _batches(lines) -> list[LogBatch]:
    batches: dict[int, LogBatch] = {}
    for line in lines:
        batch = batches.setdefault(
            line.source_event_id, LogBatch(line.source_event_id, line.time, line.collected)
        )
        if len(batch.lines) < LOG_LINES_PER_EVENT:
            batch.lines.append(line)
    return list(batches.values())


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

"""Recording what `releases/latest` answered: one UpdateCheck row per answer, and the
device marked seen with the versions it reported.

A question is not data a device sent: it asks again in minutes or hours whatever it
was told, and nothing it holds waits on the row. So the answer does not wait for the
row's commit. Each web process queues its answers in memory and one thread of the
process writes what is queued every FLUSH_SECONDS, in one transaction
(dre.batching.WriteBehind; `at` is the moment each answer was made, not the moment of
the write). Waiting for the commit,
even a shared one (dre/batching.py), cost each answer two thread wake-ups and was a
third of its CPU.

What that trades, and the bounds on it:
- A process that dies without exiting (SIGKILL, the OOM killer, a power cut) loses the
  answers of its last FLUSH_SECONDS at most: a device then appears not to have asked
  once, and the adoption counts (distinct devices per day) miss it only if it asked
  nowhere else that day. A process that exits (gunicorn's restarts and recycling, a
  deploy) writes its queue first.
- When the database cannot take the rows, they stay queued and are tried again; past
  MAX_QUEUED a request writes its own row and waits for it, so a long outage ends in
  503 with Retry-After as before, not in memory that grows.
- Rows whose device, cohort or release was deleted meanwhile are dropped (logged): the
  deletion's cascade would have removed them.

Inside a transaction (a test's), and on SQLite (development), an answer's row is
written at once, with that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from dre.batching import WriteBehind
from dre.fleet.models import HardwareVersion, SoftwareVersion
from dre.fleet.services import devices_seen
from dre.releases.models import UpdateCheck
from dre.sql import ArrayInsert

# How long an answer waits in its process's queue at most (plus one write).
FLUSH_SECONDS = 0.05
# Answers queued per process at most: about a minute of a busy process's questions.
MAX_QUEUED = 50_000


@dataclass(frozen=True)
class UpdateCheckSeen:
    """One answer of `releases/latest` to record, and what the device reported."""

    project_id: int
    serial: str
    device_id: int
    cohort_id: int
    software_type_id: int
    hardware_version: HardwareVersion
    software_version: SoftwareVersion | None
    current_version: str | None
    release_id: int | None
    mark_seen: bool  # False when the request already marked the device seen
    at: datetime = field(default_factory=timezone.now)


def update_check_submit(check: UpdateCheckSeen) -> None:
    """Record the answer and mark the device seen with its versions: queued for this
    process's writer, or written now (see the module's doc)."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        update_checks_write([check])
    elif not _queue.append(check):
        update_checks_write([check])  # the queue is full: the database is away or slow


def update_checks_flush() -> None:
    """Write what this process queued, now (tests; the process's exit)."""
    _queue.flush()


def update_checks_write(checks: list[UpdateCheckSeen]) -> None:
    """The checks' rows and the devices' marks, in one transaction."""
    seen = [
        (c.device_id, c.hardware_version.pk, c.software_version.pk if c.software_version else None)
        for c in checks
        if c.mark_seen
    ]
    if not seen:  # one statement, its own transaction: one round trip
        _insert(checks)
        return
    with transaction.atomic():
        devices_seen(seen)
        _insert(checks)


_checks_insert = ArrayInsert(
    UpdateCheck,
    [
        "project_id", "device_id", "cohort_id", "software_type_id", "hardware_version_id",
        "current_version", "outcome", "release_id", "at",
    ],
)  # fmt: skip


def _insert(checks: list[UpdateCheckSeen]) -> None:
    _checks_insert([_row(check) for check in checks])


def _row(check: UpdateCheckSeen) -> tuple:
    """An UpdateCheck's row, in _checks_insert's columns."""
    offered = check.release_id is not None
    outcome = UpdateCheck.Outcome.OFFERED if offered else UpdateCheck.Outcome.UP_TO_DATE
    return (
        check.project_id,
        check.device_id,
        check.cohort_id,
        check.software_type_id,
        check.hardware_version.pk,
        check.current_version or "",
        outcome.value,
        check.release_id,
        check.at,
    )


_queue = WriteBehind(update_checks_write, FLUSH_SECONDS, MAX_QUEUED)

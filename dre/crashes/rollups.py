"""An issue's rollups: its occurrences counted per day, hour, software version, hardware
version and device, the tables the issue pages and trends read.

Counted with one `INSERT ... ON CONFLICT DO UPDATE` per table for any number of
occurrences (dre/sql.py): the unique index of each table orders concurrent workers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from dre.crashes.models import IssueDay, IssueDevice, IssueHardware, IssueHour, IssueVersion
from dre.sql import upsert_add

ROLLUP_KEYS = {
    IssueDay: "day",
    IssueHour: "hour",
    IssueVersion: "software_version_id",
    IssueHardware: "hardware_version_id",
}


@dataclass(frozen=True)
class Occurrence:
    """One trace or trace event of an issue, as its rollups count it."""

    issue_id: int
    seen: datetime
    software_version_id: int | None = None
    hardware_version_id: int | None = None
    device_id: int | None = None


def rollups_add(occurrences: list[Occurrence]) -> set[tuple[int, int]]:
    """Count `occurrences` into the rollup tables; return the (issue, device) pairs seen
    for the first time, whose devices the issues' device counts gain."""
    counts = {model: Counter() for model in ROLLUP_KEYS}
    for o in occurrences:
        counts[IssueDay][(o.issue_id, o.seen.date())] += 1
        counts[IssueHour][(o.issue_id, IssueHour.hour_of(o.seen))] += 1
        if o.software_version_id:
            counts[IssueVersion][(o.issue_id, o.software_version_id)] += 1
        if o.hardware_version_id:
            counts[IssueHardware][(o.issue_id, o.hardware_version_id)] += 1
    for model, key in ROLLUP_KEYS.items():
        rows = [
            {"issue_id": issue, key: value, "trace_count": n}
            for (issue, value), n in sorted(counts[model].items())
        ]
        upsert_add(model, rows, ["issue_id", key], add=["trace_count"])
    return _devices_add([o for o in occurrences if o.device_id])


def rollups_move(source_id: int, target_id: int) -> None:
    """Add the rollups of issue `source_id` to those of `target_id` (a merge), keeping
    the later time each device was last seen, and delete the source's."""
    for model, key in [*ROLLUP_KEYS.items(), (IssueDevice, "device_id")]:
        greatest = ["last_seen"] if model is IssueDevice else []
        rows = model.objects.filter(issue=source_id).values(key, "trace_count", *greatest)
        upsert_add(
            model,
            [{"issue_id": target_id, **row} for row in rows],
            ["issue_id", key],
            add=["trace_count"],
            greatest=greatest,
        )
        model.objects.filter(issue=source_id).delete()


def _devices_add(occurrences: list[Occurrence]) -> set[tuple[int, int]]:
    """A pair's row is new when its count after the upsert is the count this call added:
    a row that existed held at least one occurrence. The unique index makes a second
    worker wait for the first one's commit and add to its row, so exactly one of two
    racing workers finds a pair new."""
    counts, last_seen = Counter(), {}
    for o in occurrences:
        pair = (o.issue_id, o.device_id)
        counts[pair] += 1
        last_seen[pair] = max(last_seen.get(pair, o.seen), o.seen)
    rows = [
        {"issue_id": i, "device_id": d, "trace_count": n, "last_seen": last_seen[(i, d)]}
        for (i, d), n in sorted(counts.items())
    ]
    written = upsert_add(
        IssueDevice,
        rows,
        ["issue_id", "device_id"],
        add=["trace_count"],
        greatest=["last_seen"],
        returning=["issue_id", "device_id", "trace_count"],
    )
    return {(i, d) for i, d, total in written if total == counts[(i, d)]}

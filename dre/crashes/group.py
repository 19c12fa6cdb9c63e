"""The group stage: attach traces to the issues of their fingerprints, a batch at a time.

One code path for a single trace (the group_trace task, the sweeper) and for the batch
the symbolicate stage hands over. The statements are per batch, not per trace:

1. Lock the batch's coredumps that are still SYMBOLICATED (a duplicated task waits,
   then finds them GROUPED) and load their traces: one SELECT ... FOR UPDATE.
2. Read each project's grouping rules once; fingerprint every trace (a pure function).
3. Find the issues of the fingerprints with one SELECT; for the fingerprints no issue
   has, one more for their secondary fingerprints (the previous config's: a grouping
   upgrade never splits an issue). Still unknown: new issues, one multi-row INSERT,
   their fingerprint mappings another; the unique index decides a race with another
   worker, whose issue then wins and ours are deleted.
4. Lock the issues (in id order, so two batches cannot deadlock) and count the traces
   in memory: counters, first and last seen, regressions of resolved issues.
5. Rollups (days, hours, versions, hardware, devices) with one
   `INSERT ... ON CONFLICT DO UPDATE` per table; issues and traces written with one
   bulk UPDATE each; activity entries with one INSERT.
6. Announce (dre/events.py): each CREATED or REGRESSED entry, then one issue.occurred
   per issue of the batch with its counts once the batch is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from dre.crashes import grouping
from dre.crashes.announce import traces_announce
from dre.crashes.fingerprints import fingerprint_issues, fingerprints_map
from dre.crashes.models import (
    Coredump,
    Issue,
    IssueActivity,
    IssueDevice,
    IssueFingerprint,
    Trace,
)
from dre.crashes.rollups import Occurrence, rollups_add
from dre.crashes.selectors import grouping_rules_saved
from dre.crashes.titles import trace_title
from dre.crashes.workflow import issue_regression
from dre.sql import update_rows

State = Coredump.State
ISSUE_FIELDS = [
    "trace_count",
    "device_count",
    "first_seen",
    "last_seen",
    "state",
    "resolution",
    "resolved_in",
    "regressed_at",
]


@dataclass
class Grouped:
    """One trace on its way to an issue."""

    trace: Trace
    result: grouping.GroupingResult
    rules: grouping.Rules
    secondary: dict = field(default_factory=dict)
    issue_id: int | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.trace.project_id, self.result.fingerprint)


def trace_group(trace_id: int) -> None:
    """Attach a trace to the issue of its fingerprint, creating the issue if needed."""
    traces_group([trace_id])


def traces_group(trace_ids: list[int]) -> None:
    """Attach each trace to the issue of its fingerprint, in one transaction."""
    with transaction.atomic():
        traces = _lock_symbolicated(trace_ids)
        if not traces:
            return
        batch = _fingerprint(traces)
        created = _issues_for(batch)
        issues = _lock_issues(batch)
        activities = _count(batch, issues, created)
        _write(batch, issues, activities)
        # Announced once counted, so each event's snapshot includes the batch.
        traces_announce(activities, list(issues.values()))


def _lock_symbolicated(trace_ids: list[int]) -> list[Trace]:
    # FOR UPDATE OF the coredump only: the trace and the versions need no lock.
    return list(
        Trace.objects.filter(pk__in=trace_ids, coredump__state=State.SYMBOLICATED)
        .select_related("coredump", "coredump__software_version")
        .select_for_update(of=("coredump",))
        .order_by("coredump_id")
    )


def _fingerprint(traces: list[Trace]) -> list[Grouped]:
    rules = {pk: grouping_rules_saved(pk) for pk in {t.project_id for t in traces}}
    batch = []
    for trace in traces:
        result = grouping.group(trace.data, rules=rules[trace.project_id])
        trace.title = trace_title(trace.data, result)
        batch.append(Grouped(trace, result, rules[trace.project_id]))
    return batch


def _issues_for(batch: list[Grouped]) -> set[int]:
    """Set every trace's issue; return the ids of the issues this batch created."""
    known = fingerprint_issues({g.key for g in batch})
    firsts = {}  # the first trace of each fingerprint no issue has
    for grouped in batch:
        if grouped.key in known:
            grouped.issue_id = known[grouped.key]
        else:
            firsts.setdefault(grouped.key, grouped)
    _by_secondary(list(firsts.values()))
    created = _create_issues([g for g in firsts.values() if g.issue_id is None])
    winners = _map_fingerprints(list(firsts.values()))
    for grouped in batch:
        grouped.issue_id = grouped.issue_id if grouped.key in known else winners[grouped.key]
    if beaten := created - set(winners.values()):
        Issue.objects.filter(pk__in=beaten).delete()
    return created - beaten


def _by_secondary(firsts: list[Grouped]) -> None:
    """The issue of the fingerprint the previous config gives, for each new fingerprint:
    that issue gets the new fingerprint too."""
    older = {
        g.key: grouping.group(g.trace.data, grouping.SECONDARY_CONFIG, g.rules)
        for g in firsts
        if g.result.config != grouping.SECONDARY_CONFIG
    }
    found = fingerprint_issues({(key[0], result.fingerprint) for key, result in older.items()})
    for grouped in firsts:
        result = older.get(grouped.key)
        if result is not None and (issue := found.get((grouped.key[0], result.fingerprint))):
            grouped.issue_id = issue
            grouped.secondary = {
                "secondary": {"config": result.config, "fingerprint": result.fingerprint}
            }


def _create_issues(firsts: list[Grouped]) -> set[int]:
    """One new issue per new fingerprint, titled by its first trace."""
    issues = Issue.objects.bulk_create(
        [
            Issue(
                project_id=g.trace.project_id,
                title=g.trace.title,
                culprit=g.result.culprit()[:300],
                first_seen=g.trace.coredump.received,
                last_seen=g.trace.coredump.received,
            )
            for g in firsts
        ]
    )
    for grouped, issue in zip(firsts, issues, strict=True):
        grouped.issue_id = issue.pk
    return {issue.pk for issue in issues}


def _map_fingerprints(firsts: list[Grouped]) -> dict[tuple[int, str], int]:
    """Send each new fingerprint's traces to the issue chosen for it; return the issue
    that got each one, another if a racing worker mapped it first."""
    return fingerprints_map(
        [
            IssueFingerprint(
                project_id=g.trace.project_id,
                fingerprint=g.result.fingerprint,
                issue_id=g.issue_id,
                grouping_config=g.result.config,
            )
            for g in firsts
        ]
    )


def _lock_issues(batch: list[Grouped]) -> dict[int, Issue]:
    issues = (
        Issue.objects.filter(pk__in={g.issue_id for g in batch})
        .select_related("project__organization")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {issue.pk: issue for issue in issues}


def _count(batch: list[Grouped], issues: dict[int, Issue], created: set[int]) -> list:
    """Count the batch into the locked issues in memory, trace by trace in coredump order
    (as one trace at a time would); the activity entries it makes, not yet saved."""
    activities = [
        IssueActivity(issue=issues[pk], kind=IssueActivity.Kind.CREATED) for pk in sorted(created)
    ]
    new_devices = _new_devices(batch)
    for grouped in batch:
        issue, coredump = issues[grouped.issue_id], grouped.trace.coredump
        issue.trace_count += 1
        issue.first_seen = min(issue.first_seen, coredump.received)
        issue.last_seen = max(issue.last_seen, coredump.received)
        if (issue.pk, coredump.device_id) in new_devices:
            new_devices.discard((issue.pk, coredump.device_id))
            issue.device_count += 1
        if regressed := issue_regression(issue, grouped.trace):
            activities.append(regressed)
    return activities


def _new_devices(batch: list[Grouped]) -> set[tuple[int, int]]:
    """The (issue, device) pairs seen for the first time. Read under the issues' locks,
    so a concurrent batch's pairs are committed and seen."""
    pairs = {(g.issue_id, g.trace.coredump.device_id) for g in batch}
    pairs = {(issue, device) for issue, device in pairs if device is not None}
    if not pairs:
        return set()
    existing = IssueDevice.objects.filter(
        issue__in={issue for issue, _ in pairs}, device__in={device for _, device in pairs}
    ).values_list("issue_id", "device_id")
    return pairs - set(existing)


def _write(batch: list[Grouped], issues: dict[int, Issue], activities: list) -> None:
    _rollups_add(batch)
    update_rows(list(issues.values()), ISSUE_FIELDS)
    for grouped in batch:
        trace = grouped.trace
        trace.issue_id = grouped.issue_id
        trace.fingerprint = grouped.result.fingerprint
        trace.grouping = {**grouped.result.to_dict(), **grouped.secondary}
    update_rows([g.trace for g in batch], ["issue", "fingerprint", "grouping", "title"])
    IssueActivity.objects.bulk_create(activities)
    Coredump.objects.filter(pk__in=[g.trace.coredump_id for g in batch]).update(
        state=State.GROUPED, state_changed=timezone.now()
    )


def _rollups_add(batch: list[Grouped]) -> None:
    """Each rollup table's counts of the batch, added with one upsert per table. The
    device counts of the issues were taken under their locks (_new_devices)."""
    rollups_add(
        [
            Occurrence(
                issue_id=g.issue_id,
                seen=g.trace.coredump.received,
                software_version_id=g.trace.coredump.software_version_id,
                hardware_version_id=g.trace.coredump.hardware_version_id,
                device_id=g.trace.coredump.device_id,
            )
            for g in batch
        ]
    )

"""Reads for the triage pages: the issue list with its filters and keyset pages, an
issue's charts, devices, traces and grouping, a project's traces.

Counts and filters go through the rollups kept as traces arrive (IssueVersion,
IssueHardware, IssueDay, IssueDevice) and the issue's own counters: nothing here scans
an issue's traces to count them, so pages cost the same with ten traces or a million.
Pages are keyset pages, (sort value, id) below or above a cursor, never OFFSET.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dre.accounts.models import Project
from dre.crashes import grouping
from dre.crashes.models import (
    Coredump,
    GroupingRules,
    Issue,
    IssueActivity,
    IssueComment,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    IssueHardware,
    IssueHour,
    IssueVersion,
    Trace,
)
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareVersion
from dre.fleet.versions import version_key

log = logging.getLogger(__name__)
PAGE_SIZE = 50
# Sort name in the URL -> the Issue field, always descending, ties broken by id.
ISSUE_SORTS = {
    "last_seen": "last_seen",
    "first_seen": "first_seen",
    "traces": "trace_count",
    "devices": "device_count",
}
ISSUE_STATES = ("open", "regressed", "resolved", "muted", "merged", "all")
CHART_DAYS = 90
TREND_HOURS = 24  # the issue list's sparkline: traces per hour, the last 24 hours


# -- keyset pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in a listing: the sort value and id of a row."""

    value: datetime | int
    pk: int

    def __str__(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        return f"{value}~{self.pk}"

    @classmethod
    def parse(cls, text: str | None, kind: type) -> Cursor | None:
        """The cursor in a URL, or None for a missing or malformed one (the first page)."""
        value, _, pk = (text or "").rpartition("~")
        try:
            parsed = datetime.fromisoformat(value) if kind is datetime else int(value)
            return cls(parsed, int(pk))
        except ValueError:
            return None


@dataclass
class Page:
    items: list
    next: Cursor | None = None  # the rows after these (older, fewer)
    previous: Cursor | None = None  # the rows before these


def keyset_page(
    queryset: QuerySet,
    field_name: str,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int | None = None,
) -> Page:
    """One page of `queryset` ordered by (field, pk) descending.

    1. `after` a cursor: rows below it, descending; `before` one: rows above it,
       ascending, then reversed; neither: the top rows.
    2. One row more than the page is fetched to know whether another page follows.
    The redundant `field <= value` lets the database range-scan its (field, id) index,
    which an OR of two conditions alone does not.
    """
    limit = limit or PAGE_SIZE
    if before is not None:
        rows = list(
            queryset.filter(_beyond(field_name, before, "gt")).order_by(field_name, "pk")[
                : limit + 1
            ]
        )
        more, rows = len(rows) > limit, rows[:limit][::-1]
        following = _cursor(rows[-1], field_name) if rows else None
        return Page(rows, following, _cursor(rows[0], field_name) if more else None)
    if after is not None:
        queryset = queryset.filter(_beyond(field_name, after, "lt"))
    rows = list(queryset.order_by(f"-{field_name}", "-pk")[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    following = _cursor(rows[-1], field_name) if more else None
    previous = _cursor(rows[0], field_name) if after is not None and rows else None
    return Page(rows, following, previous)


def _beyond(field_name: str, cursor: Cursor, op: str) -> Q:
    bound = "lte" if op == "lt" else "gte"
    return Q(**{f"{field_name}__{bound}": cursor.value}) & (
        Q(**{f"{field_name}__{op}": cursor.value})
        | Q(**{field_name: cursor.value, f"pk__{op}": cursor.pk})
    )


def _cursor(row, field_name: str) -> Cursor:
    return Cursor(getattr(row, field_name), row.pk)


# -- the issue list --------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueFilters:
    state: str = "open"
    software_version: int | None = None
    hardware_version: int | None = None
    device: int | None = None
    cohort: int | None = None
    text: str = ""
    sort: str = "last_seen"
    kind: str = ""  # an Issue.Kind, or "" for every kind

    @property
    def sort_field(self) -> str:
        return ISSUE_SORTS.get(self.sort, "last_seen")


def issues_filtered(project: Project, filters: IssueFilters) -> QuerySet[Issue]:
    """A project's issues matching the filters; version, hardware, device and cohort
    filters are semi-joins on the rollups."""
    issues = _by_state(Issue.objects.filter(project=project), filters.state)
    if filters.software_version:
        issues = issues.filter(pk__in=_issue_ids(IssueVersion, filters.software_version))
    if filters.hardware_version:
        issues = issues.filter(pk__in=_issue_ids(IssueHardware, filters.hardware_version))
    if filters.device:
        issues = issues.filter(pk__in=_issue_ids(IssueDevice, filters.device))
    if filters.cohort:
        issues = issues.filter(
            pk__in=IssueDevice.objects.filter(device__cohort=filters.cohort).values("issue")
        )
    if filters.kind:
        issues = issues.filter(kind=filters.kind)
    if filters.text.strip():
        text = filters.text.strip()
        issues = issues.filter(Q(title__icontains=text) | Q(culprit__icontains=text))
    return issues


def _by_state(issues: QuerySet[Issue], state: str) -> QuerySet[Issue]:
    if state == "all":
        return issues.exclude(state=Issue.State.MERGED)
    if state == "regressed":
        return issues.filter(state=Issue.State.OPEN, regressed_at__isnull=False)
    if state in Issue.State.values:
        return issues.filter(state=state)
    return issues.filter(state=Issue.State.OPEN)


def _issue_ids(model, key: int) -> QuerySet:
    column = {
        IssueVersion: "software_version",
        IssueHardware: "hardware_version",
        IssueDevice: "device",
    }[model]
    return model.objects.filter(**{column: key}).values("issue")


def issue_list(
    project: Project,
    filters: IssueFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int | None = None,
) -> Page:
    """A page of the issue list, each issue with `.versions` (oldest first), `.boards`
    (how many hardware versions), and `.trend` (traces per hour, TREND_HOURS, oldest
    first), read from the rollups in three queries for the whole page."""
    field_name = filters.sort_field
    kind = datetime if field_name in ("last_seen", "first_seen") else int
    page = keyset_page(
        issues_filtered(project, filters),
        field_name,
        after=Cursor.parse(after, kind),
        before=Cursor.parse(before, kind),
        limit=limit,
    )
    ids = [issue.pk for issue in page.items]
    versions, boards, trends = issue_versions_of(ids), issue_boards_of(ids), issue_trends_of(ids)
    for issue in page.items:
        issue.versions = versions.get(issue.pk, [])
        issue.boards = boards.get(issue.pk, 0)
        issue.trend = trends.get(issue.pk, [0] * TREND_HOURS)
    return page


def issue_boards_of(issue_ids: list[int]) -> dict[int, int]:
    """How many hardware versions each issue was seen on."""
    rows = (
        IssueHardware.objects.filter(issue__in=issue_ids)
        .values("issue_id")
        .annotate(n=Count("pk"))
        .values_list("issue_id", "n")
    )
    return dict(rows)


def issue_trends_of(issue_ids: list[int], now: datetime | None = None) -> dict[int, list[int]]:
    """Traces per hour of the last TREND_HOURS hours (the current one last), per issue."""
    end = IssueHour.hour_of(now or timezone.now())
    start = end - TREND_HOURS + 1
    rows = IssueHour.objects.filter(
        issue__in=issue_ids, hour__gte=start, hour__lte=end
    ).values_list("issue_id", "hour", "trace_count")
    trends: dict[int, list[int]] = {}
    for issue_id, hour, count in rows:
        trends.setdefault(issue_id, [0] * TREND_HOURS)[hour - start] += count
    return trends


def issue_versions_of(issue_ids: list[int]) -> dict[int, list[str]]:
    """The software versions each issue was seen in, oldest first, in one query."""
    found: dict[int, list[str]] = {}
    rows = IssueVersion.objects.filter(issue__in=issue_ids).values_list(
        "issue_id", "software_version__version"
    )
    for issue_id, version in rows:
        found.setdefault(issue_id, []).append(version)
    return {pk: sorted(set(v), key=version_key) for pk, v in found.items()}


@dataclass
class FilterChoices:
    software_versions: list[SoftwareVersion]
    hardware_versions: list[HardwareVersion]
    cohorts: list[Cohort]


def issue_filter_choices(project: Project) -> FilterChoices:
    versions = SoftwareVersion.objects.filter(software_type__project=project).select_related(
        "software_type"
    )
    return FilterChoices(
        sorted(versions, key=lambda v: (v.software_type.name, v.sort_key), reverse=True),
        list(HardwareVersion.objects.filter(project=project).order_by("name")),
        list(Cohort.objects.filter(project=project).order_by("slug")),
    )


def device_by_serial(project: Project, serial: str) -> Device | None:
    return Device.objects.filter(project=project, serial=serial.strip()).first()


def issues_by_ids(project: Project, ids: list[int]) -> list[Issue]:
    return list(Issue.objects.filter(project=project, pk__in=ids))


# -- one issue -------------------------------------------------------------------------------


@dataclass
class IssueCharts:
    days: list[tuple[str, int]]
    software_versions: list[tuple[str, int]]
    hardware_versions: list[tuple[str, int]]

    def to_dict(self) -> dict:
        return {
            "days": [list(d) for d in self.days],
            "software_versions": [list(v) for v in self.software_versions],
            "hardware_versions": [list(h) for h in self.hardware_versions],
        }


def issue_charts(issue: Issue, *, today: date | None = None, days: int = CHART_DAYS) -> IssueCharts:
    """Traces per UTC day (zero days included, at most `days` up to the last one seen),
    per software version (oldest first) and per hardware version."""
    end = max(today or timezone.now().date(), issue.last_seen.date())
    start = max(issue.first_seen.date(), end - timedelta(days=days - 1))
    counts = dict(
        IssueDay.objects.filter(issue=issue, day__gte=start, day__lte=end).values_list(
            "day", "trace_count"
        )
    )
    per_day = [
        ((start + timedelta(n)).isoformat(), counts.get(start + timedelta(n), 0))
        for n in range((end - start).days + 1)
    ]
    versions = IssueVersion.objects.filter(issue=issue).select_related(
        "software_version__software_type"
    )
    by_version = sorted(versions, key=lambda r: r.software_version.sort_key)
    hardware = IssueHardware.objects.filter(issue=issue).select_related("hardware_version")
    return IssueCharts(
        per_day,
        [(str(r.software_version), r.trace_count) for r in by_version],
        sorted(((r.hardware_version.name, r.trace_count) for r in hardware), key=lambda h: h[0]),
    )


def issue_devices(issue: Issue, limit: int = 20) -> list[IssueDevice]:
    """The devices an issue was seen on, most recent first."""
    return list(
        IssueDevice.objects.filter(issue=issue)
        .select_related("device__hardware_version", "device__software_version", "device__cohort")
        .order_by("-last_seen", "-pk")[:limit]
    )


def issue_activity(issue: Issue, limit: int = 100) -> list[IssueActivity]:
    return list(issue.activity.select_related("actor")[:limit])


def issue_comments(issue: Issue) -> list[IssueComment]:
    return list(issue.comments.select_related("author").order_by("created", "pk"))


@dataclass
class IssueGrouping:
    """Why the issue's traces are grouped together (its latest trace's fingerprint parts)
    and which other issues were merged into it (their fingerprints now lead here)."""

    config: str = ""
    components: list[dict] = field(default_factory=list)
    # {"config", "fingerprint"} when the previous config's fingerprint found the issue
    secondary: dict | None = None
    fingerprints: list[IssueFingerprint] = field(default_factory=list)
    merged: list[Issue] = field(default_factory=list)


def issue_grouping(issue: Issue, latest: Trace | None) -> IssueGrouping:
    parts = latest.grouping if latest is not None else {}
    return IssueGrouping(
        config=parts.get("config", ""),
        components=parts.get("components", []),
        secondary=parts.get("secondary"),
        fingerprints=list(IssueFingerprint.objects.filter(issue=issue).order_by("pk")),
        merged=list(Issue.objects.filter(merged_into=issue).order_by("pk")),
    )


# -- traces ----------------------------------------------------------------------------------


def _traces(project: Project) -> QuerySet[Trace]:
    return (
        Trace.objects.filter(project=project)
        .select_related(
            "coredump__device",
            "coredump__software_version__software_type",
            "coredump__hardware_version",
        )
        .defer("data", "grouping")
    )


def trace_list(
    project: Project,
    *,
    issue: Issue | None = None,
    device: Device | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int | None = None,
) -> Page:
    """A project's traces, newest first: of one issue by the index (issue, -created); of
    one device or the whole project by id, which grows with arrival and walks the primary
    key index instead of sorting every trace of the project."""
    traces = _traces(project)
    if issue is not None:
        traces = traces.filter(issue=issue)
    if device is not None:
        traces = traces.filter(coredump__device=device)
    field_name, kind = ("created", datetime) if issue is not None else ("id", int)
    return keyset_page(
        traces,
        field_name,
        after=Cursor.parse(after, kind),
        before=Cursor.parse(before, kind),
        limit=limit,
    )


def trace_get(project: Project, pk: int) -> Trace | None:
    return (
        Trace.objects.filter(project=project, pk=pk)
        .select_related(
            "issue",
            "coredump__device__cohort",
            "coredump__software_version__software_type",
            "coredump__hardware_version",
            "coredump__symbol_file",
        )
        .first()
    )


def device_trace_count(device: Device) -> int:
    return Trace.objects.filter(coredump__device=device).count()


# -- grouping rules --------------------------------------------------------------------------


@dataclass
class RulesPreview:
    """What new grouping rules would do to a project's latest traces."""

    checked: int
    changed: list[tuple[Trace, list[dict]]]  # traces whose fingerprint would change


def grouping_rules_preview(project: Project, rules: grouping.Rules, limit=200) -> RulesPreview:
    """Fingerprint the latest traces again with `rules` (a dry run: nothing is saved).

    A trace counts as changed when `rules` give it another fingerprint than the project's
    saved rules do under the same config: a trace grouped by an older config would
    otherwise always look changed.
    """
    traces = list(
        Trace.objects.filter(project=project).exclude(fingerprint="").order_by("-pk")[:limit]
    )
    saved = grouping_rules_saved(project)
    changed = []
    for trace in traces:
        result = grouping.group(trace.data, rules=rules)
        if result.fingerprint != grouping.group(trace.data, rules=saved).fingerprint:
            changed.append((trace, result.to_dict()["components"]))
    return RulesPreview(len(traces), changed)


def grouping_rules_saved(project: Project | int) -> grouping.Rules:
    """The project's saved rules."""
    found = GroupingRules.objects.filter(project=project).first()
    if found is None:
        return grouping.Rules()
    try:
        return grouping.Rules.parse(found.not_in_app, found.ignore_functions, found.max_frames)
    except grouping.RuleError as exc:
        # Forms, the admin and the API refuse such lines; one that got in another way must
        # not stop the pipeline. The in-app rules are then left out, and the log says why.
        log.warning("in-app rules of project %s left out: %s", found.project_id, exc)
        return grouping.Rules(max_frames=found.max_frames)


def device_coredump_since(device_id: int, since) -> int | None:
    """The newest coredump of a device received since `since`: the one a log buffer sent
    right after it was captured with (dre.diagnostics)."""
    return (
        Coredump.objects.filter(device_id=device_id, received__gte=since)
        .order_by("-received")
        .values_list("pk", flat=True)
        .first()
    )


def issue_and_merged_ids(issue: Issue) -> list[int]:
    """The issue and those merged into it: whose occurrences it now shows."""
    return [issue.pk, *Issue.objects.filter(merged_into=issue).values_list("pk", flat=True)]

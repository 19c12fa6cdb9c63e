"""What people do to issues: resolve, reopen, mute, merge, comment; and what a new trace
does to a resolved issue (regression). Every change leaves an activity entry."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from dre.crashes.announce import activity_announce
from dre.crashes.models import (
    Issue,
    IssueActivity,
    IssueComment,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    Trace,
)
from dre.crashes.rollups import rollups_move
from dre.fleet.versions import version_key

State, Resolution, Kind = Issue.State, Issue.Resolution, IssueActivity.Kind


class WorkflowError(ValueError):
    """An action that does not apply to the issue in its current state."""


def _record(issue: Issue, kind: str, actor=None, **data) -> IssueActivity:
    activity = IssueActivity.objects.create(issue=issue, actor=_user(actor), kind=kind, data=data)
    activity_announce(activity)
    return activity


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# -- resolve, reopen, mute -----------------------------------------------------------


@transaction.atomic
def issue_resolve(issue: Issue, *, actor=None, resolution: str = Resolution.NOW, version: str = ""):
    """Resolve now, in a version (typed freely: it may not exist yet), or in the next version
    (newer than every version the issue was seen in)."""
    if issue.state == State.MERGED:
        raise WorkflowError("a merged issue is resolved through the issue it was merged into")
    if resolution == Resolution.IN_VERSION and not version.strip():
        raise WorkflowError("resolving in a version needs the version")
    if resolution == Resolution.IN_NEXT_VERSION:
        version = newest_version(issue) or ""
    issue.state, issue.resolution = State.RESOLVED, resolution
    issue.resolved_in = version.strip() if resolution != Resolution.NOW else ""
    issue.resolved_at, issue.regressed_at = timezone.now(), None
    issue.save(update_fields=["state", "resolution", "resolved_in", "resolved_at", "regressed_at"])
    _record(issue, Kind.RESOLVED, actor, resolution=resolution, version=issue.resolved_in)


def newest_version(issue: Issue) -> str | None:
    versions = [v.version for v in issue.software_versions.all()]
    return max(versions, key=version_key) if versions else None


@transaction.atomic
def issue_reopen(issue: Issue, *, actor=None):
    if issue.state not in (State.RESOLVED, State.MUTED):
        raise WorkflowError(f"a {issue.state} issue cannot be reopened")
    _open(issue)
    _record(issue, Kind.REOPENED, actor)


@transaction.atomic
def issue_mute(issue: Issue, *, actor=None):
    if issue.state == State.MERGED:
        raise WorkflowError("a merged issue cannot be muted")
    issue.state = State.MUTED
    issue.save(update_fields=["state"])
    _record(issue, Kind.MUTED, actor)


@transaction.atomic
def issue_unmute(issue: Issue, *, actor=None):
    if issue.state != State.MUTED:
        raise WorkflowError("only a muted issue can be unmuted")
    _open(issue)
    _record(issue, Kind.UNMUTED, actor)


def _open(issue: Issue, *, regressed: bool = False) -> None:
    _reopened(issue, regressed=regressed)
    issue.save(update_fields=["state", "resolution", "resolved_in", "regressed_at"])


def _reopened(issue: Issue, *, regressed: bool = False) -> None:
    issue.state, issue.resolution, issue.resolved_in = State.OPEN, "", ""
    issue.regressed_at = timezone.now() if regressed else None


# -- regressions -------------------------------------------------------------------------


def regresses(issue: Issue, version: str | None, captured) -> bool:
    """Whether a new trace reopens a resolved issue.

    Resolved in a version: only a trace from a newer version (by the project's version
    order) reopens it; older versions and traces without a version do not, since fleets
    update slowly. Resolved without a version: any trace captured after resolving does.
    """
    if issue.state != State.RESOLVED:
        return False
    if (
        issue.resolution in (Resolution.IN_VERSION, Resolution.IN_NEXT_VERSION)
        and issue.resolved_in
    ):
        return version is not None and version_key(version) > version_key(issue.resolved_in)
    return captured is None or issue.resolved_at is None or captured > issue.resolved_at


def issue_regression(issue: Issue, trace: Trace) -> IssueActivity | None:
    """Reopen (in memory) a resolved issue a new trace proves still happens; the
    REGRESSED entry, unsaved. The group stage saves both with the rest of its batch
    and announces the entry once it is saved."""
    coredump = trace.coredump
    version = coredump.software_version.version if coredump.software_version_id else None
    if not regresses(issue, version, coredump.captured or coredump.received):
        return None
    _reopened(issue, regressed=True)
    return IssueActivity(
        issue=issue, kind=Kind.REGRESSED, data={"version": version or "", "trace": trace.pk}
    )


def issue_occurrence_arrived(issue: Issue, version: str | None, when, **where) -> None:
    """Reopen a resolved issue an occurrence (a trace, a trace event) proves still happens;
    `where` names the occurrence in the activity entry."""
    if regresses(issue, version, when):
        _open(issue, regressed=True)
        _record(issue, Kind.REGRESSED, None, version=version or "", **where)


# -- merge -----------------------------------------------------------------------------------


@transaction.atomic
def issues_merge(target: Issue, sources: list[Issue], *, actor=None) -> None:
    """Fold `sources` into `target`: fingerprints (so future traces follow), traces and
    counts move; the sources stay as MERGED records pointing at the target."""
    sources = [s for s in sources if s.pk != target.pk]
    if target.state == State.MERGED:
        raise WorkflowError("cannot merge into an issue that was itself merged")
    for source in sources:
        if source.project_id != target.project_id:
            raise WorkflowError("issues of different projects cannot be merged")
        if source.kind != target.kind:
            raise WorkflowError("a crash issue and a trace event issue cannot be merged")
        _move(source, target)
        _record(source, Kind.MERGED_INTO, actor, into=target.pk)
    _recount(target)
    _record(target, Kind.MERGED, actor, issues=[s.pk for s in sources])


def _move(source: Issue, target: Issue) -> None:
    IssueFingerprint.objects.filter(issue=source).update(issue=target)
    Issue.objects.filter(merged_into=source).update(merged_into=target)
    Trace.objects.filter(issue=source).update(issue=target)
    rollups_move(source.pk, target.pk)
    Issue.objects.filter(pk=target.pk).update(
        first_seen=Least("first_seen", source.first_seen),
        last_seen=Greatest("last_seen", source.last_seen),
    )
    source.state, source.merged_into = State.MERGED, target
    source.save(update_fields=["state", "merged_into"])


def _recount(issue: Issue) -> None:
    Issue.objects.filter(pk=issue.pk).update(
        trace_count=IssueDay.objects.filter(issue=issue).aggregate(n=Sum("trace_count"))["n"] or 0,
        device_count=IssueDevice.objects.filter(issue=issue).count(),
    )


# -- comments and bulk actions ----------------------------------------------------------------


@transaction.atomic
def issue_comment(issue: Issue, *, author, text: str) -> IssueComment:
    text = text.strip()
    if not text:
        raise WorkflowError("a comment needs some text")
    comment = IssueComment.objects.create(issue=issue, author=_user(author), text=text)
    _record(issue, Kind.COMMENTED, author, comment=comment.pk)
    return comment


BULK_ACTIONS = {"resolve", "mute", "reopen", "merge"}


def issues_bulk(issues: list[Issue], action: str, *, actor=None) -> None:
    """The issue list's bulk actions. Merge keeps the issue first seen as the survivor."""
    if action not in BULK_ACTIONS:
        raise WorkflowError(f"unknown action {action!r}")
    if action == "merge":
        if len(issues) < 2:
            raise WorkflowError("select at least two issues to merge")
        target, *rest = sorted(issues, key=lambda i: (i.first_seen, i.pk))
        issues_merge(target, rest, actor=actor)
        return
    apply = {"resolve": issue_resolve, "mute": issue_mute, "reopen": issue_reopen}[action]
    for issue in issues:
        if action == "reopen" and issue.state == State.OPEN:
            continue
        apply(issue, actor=actor)

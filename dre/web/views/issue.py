"""One issue: its state controls, charts, devices, traces, grouping, comments and activity."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.crashes import selectors, workflow
from dre.crashes.models import Issue
from dre.diagnostics import selectors as diagnostics
from dre.web.access import project_access
from dre.web.forms import CommentForm, MergeForm, ResolveForm
from dre.web.views.common import render_page

TRACES_ON_ISSUE_PAGE = 20


@login_required
@require_http_methods(["GET", "HEAD"])
def issue_detail(request, org, project, issue_id):
    access = project_access(request, org, project)
    issue = get_object_or_404(
        Issue.objects.select_related("merged_into"), project=access.project, pk=issue_id
    )
    occurrences = _occurrences(access.project, issue)
    charts = selectors.issue_charts(issue)
    context = {
        "issue": issue,
        **occurrences,
        "charts": charts.to_dict(),
        "versions": charts.software_versions,
        "seen_versions": selectors.issue_versions_of([issue.pk]).get(issue.pk, []),
        "devices": selectors.issue_devices(issue),
        "grouping": selectors.issue_grouping(issue, occurrences["latest"]),
        "comments": selectors.issue_comments(issue),
        "activity": selectors.issue_activity(issue),
        "resolve_form": ResolveForm(),
        "merge_form": MergeForm(),
        "comment_form": CommentForm(),
        "Resolution": Issue.Resolution,
    }
    return render_page(request, "web/issue_detail.html", context)


def _occurrences(project, issue: Issue) -> dict:
    """What the issue groups: crash traces, or trace events (kept by dre.diagnostics)."""
    if issue.kind == Issue.Kind.TRACE_EVENT:
        ids = selectors.issue_and_merged_ids(issue)
        events = diagnostics.issue_trace_events(ids, limit=TRACES_ON_ISSUE_PAGE)
        return {"trace_events": events, "latest": events[0] if events else None, "traces": None}
    traces = selectors.trace_list(project, issue=issue, limit=TRACES_ON_ISSUE_PAGE)
    latest = traces.items[0] if traces.items else None
    if latest is not None:
        latest = selectors.trace_get(project, latest.pk)
    return {"traces": traces, "latest": latest, "trace_events": None}


def _triaged_issue(request, org, project, issue_id) -> Issue:
    access = project_access(request, org, project, needs=Role.MEMBER)
    return get_object_or_404(Issue, project=access.project, pk=issue_id)


def _resolve(request, issue):
    form = ResolveForm(request.POST)
    if not form.is_valid():
        raise workflow.WorkflowError(" ".join(e for errs in form.errors.values() for e in errs))
    workflow.issue_resolve(
        issue,
        actor=request.user,
        resolution=form.cleaned_data["resolution"],
        version=form.cleaned_data.get("version") or "",
    )


def _merge(request, issue):
    form = MergeForm(request.POST)
    if not form.is_valid():
        raise workflow.WorkflowError("Name the issue to merge into by its number.")
    target = Issue.objects.filter(project=issue.project_id, pk=form.cleaned_data["into"]).first()
    if target is None:
        raise workflow.WorkflowError(f"There is no issue #{form.cleaned_data['into']} here.")
    if target.pk == issue.pk:
        raise workflow.WorkflowError("An issue cannot be merged into itself.")
    workflow.issues_merge(target, [issue], actor=request.user)
    return target


ACTIONS = {
    "resolve": _resolve,
    "reopen": lambda request, issue: workflow.issue_reopen(issue, actor=request.user),
    "mute": lambda request, issue: workflow.issue_mute(issue, actor=request.user),
    "unmute": lambda request, issue: workflow.issue_unmute(issue, actor=request.user),
    "merge": _merge,
}
DONE = {
    "resolve": "Resolved.",
    "reopen": "Reopened.",
    "mute": "Muted.",
    "unmute": "Unmuted.",
    "merge": "Merged.",
}


@login_required
@require_POST
def issue_action(request, org, project, issue_id, action):
    if action not in ACTIONS:
        raise Http404("no such action")
    issue = _triaged_issue(request, org, project, issue_id)
    try:
        target = ACTIONS[action](request, issue)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, DONE[action])
        if isinstance(target, Issue):
            return redirect("issue-detail", org=org, project=project, issue_id=target.pk)
    return redirect("issue-detail", org=org, project=project, issue_id=issue.pk)


@login_required
@require_POST
def issue_comment(request, org, project, issue_id):
    issue = _triaged_issue(request, org, project, issue_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            workflow.issue_comment(issue, author=request.user, text=form.cleaned_data["text"])
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "A comment needs some text.")
    return redirect(reverse("issue-detail", args=[org, project, issue.pk]) + "#comments")

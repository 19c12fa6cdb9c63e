"""The project's issue list: filters, sorts, keyset pages and bulk actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.crashes import selectors
from dre.crashes.models import Issue
from dre.crashes.workflow import WorkflowError, issues_bulk
from dre.web.access import project_access
from dre.web.forms import BulkForm, IssueFilterForm
from dre.web.views.common import query_with, render_page

SORT_LABELS = {
    "last_seen": "Last seen",
    "first_seen": "First seen",
    "traces": "Traces",
    "devices": "Devices",
}
STATE_LABELS = {
    "open": "Open",
    "regressed": "Regressed",
    "resolved": "Resolved",
    "muted": "Muted",
    "merged": "Merged",
    "all": "All",
}


@login_required
@require_http_methods(["GET", "HEAD"])
def issue_list(request, org, project):
    access = project_access(request, org, project)
    form = IssueFilterForm(request.GET)
    filters = form.filters(access.project)
    page = selectors.issue_list(
        access.project, filters, after=request.GET.get("after"), before=request.GET.get("before")
    )
    context = {
        "page": page,
        "filters": filters,
        "form": form,
        "choices": selectors.issue_filter_choices(access.project),
        "kinds": Issue.Kind.choices,
        "states": [
            (s, label, query_with(request, state=s, after=None, before=None))
            for s, label in STATE_LABELS.items()
        ],
        "sorts": [
            (s, label, query_with(request, sort=s, after=None, before=None))
            for s, label in SORT_LABELS.items()
        ],
        "older": query_with(request, after=page.next, before=None) if page.next else None,
        "newer": query_with(request, before=page.previous, after=None) if page.previous else None,
        "here": request.get_full_path(),
    }
    return render_page(request, "web/issue_list.html", context)


@login_required
@require_POST
def issues_bulk_action(request, org, project):
    access = project_access(request, org, project, needs=Role.MEMBER)
    # Ids of issues in other projects are ignored, like ids that do not exist.
    posted = [int(v) for v in request.POST.getlist("issue") if v.isdigit()]
    issues = selectors.issues_by_ids(access.project, posted)
    form = BulkForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("issue-list", args=[org, project])
    if not form.is_valid() or not issues:
        messages.error(request, "Select some issues and an action.")
        return redirect(back)
    action = form.cleaned_data["action"]
    try:
        with transaction.atomic():  # all of them or none: a refusal rolls back the rest
            issues_bulk(issues, action, actor=request.user)
    except WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{action.title()}: {len(issues)} issue(s).")
    return redirect(back)

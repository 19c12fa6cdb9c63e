"""Two traces of one issue side by side: threads, frames, and the arguments, locals and
globals whose values differ (dre.crashes.compare does the comparing)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from dre.crashes import selectors
from dre.crashes.compare import globals_diff, trace_diff
from dre.crashes.models import Issue
from dre.crashes.variables import trace_variables_read
from dre.web import inspection
from dre.web.access import project_access
from dre.web.views.common import int_param, render_page

TRACES_TO_CHOOSE_FROM = 20


@login_required
@require_http_methods(["GET", "HEAD"])
def issue_compare(request, org, project, issue_id):
    access = project_access(request, org, project)
    issue = get_object_or_404(Issue, project=access.project, pk=issue_id)
    choices = selectors.trace_list(access.project, issue=issue, limit=TRACES_TO_CHOOSE_FROM).items
    a_id = int_param(request, "a") or (choices[1].pk if len(choices) > 1 else None)
    b_id = int_param(request, "b") or (choices[0].pk if choices else None)
    a, b = (_trace_of(access.project, issue, pk) for pk in (a_id, b_id))
    diff = trace_diff(trace_variables_read(a).data, trace_variables_read(b).data)
    diff.globals, diff.globals_note = _globals(a, b)
    context = {"issue": issue, "a": a, "b": b, "diff": diff, "choices": choices}
    return render_page(request, "web/issue_compare.html", context)


def _trace_of(project, issue: Issue, pk: int | None):
    trace = selectors.trace_get(project, pk) if pk is not None else None
    if trace is None or trace.issue_id != issue.pk:
        raise Http404("pick two traces of this issue")
    return trace


def _globals(a, b) -> tuple[list, str]:
    """Globals need each trace's coredump and symbol file; say why when they are gone."""
    try:
        values = [inspection.globals_all(inspection.trace_load(t)) for t in (a, b)]
    except inspection.Unavailable as exc:
        return [], f"globals cannot be compared: {exc}"
    return globals_diff(*values), ""

"""What the pipeline could not process: failed coredumps and symbol files with their
error and traceback, kept bytes and all; members process them again after a fix."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.crashes.models import Coredump
from dre.crashes.services import coredump_reprocess
from dre.leases import NotFailed
from dre.symbols.models import SymbolFile
from dre.symbols.services import symbol_file_reprocess
from dre.web.access import project_access
from dre.web.views.common import render_page

SHOWN = 100
KINDS = {
    "coredumps": (Coredump, coredump_reprocess),
    "symbol-files": (SymbolFile, symbol_file_reprocess),
}


@login_required
@require_http_methods(["GET", "HEAD"])
def failure_list(request, org, project):
    access = project_access(request, org, project)
    failed = {"project": access.project, "state": "failed"}
    context = {
        "coredumps": Coredump.objects.filter(**failed)
        .select_related("device")
        .order_by("-state_changed")[:SHOWN],
        "symbol_files": SymbolFile.objects.filter(**failed)
        .annotate(waiting=_crashes_waiting_for())
        .order_by("-state_changed")[:SHOWN],
    }
    return render_page(request, "web/failures.html", context)


def _crashes_waiting_for():
    """How many coredumps wait for a symbol file's build id: they go on when it is
    reprocessed and becomes ready."""
    waiting = Coredump.objects.filter(
        project=OuterRef("project"),
        build_id=OuterRef("build_id"),
        state=Coredump.State.AWAITING_SYMBOLS,
    ).exclude(build_id="")
    return Coalesce(Subquery(waiting.values("project").annotate(n=Count("pk")).values("n")), 0)


@login_required
@require_POST
def failure_reprocess(request, org, project, kind, pk):
    access = project_access(request, org, project, needs=Role.MEMBER)
    if kind not in KINDS:
        return redirect("failure-list", org=org, project=project)
    model, reprocess = KINDS[kind]
    row = get_object_or_404(model.objects.filter(project=access.project), pk=pk)
    try:
        reprocess(row)
    except NotFailed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{model._meta.verbose_name.capitalize()} {pk} queued again.")
    return redirect("failure-list", org=org, project=project)

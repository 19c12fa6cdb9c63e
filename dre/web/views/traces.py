"""A project's traces (of an issue or a device), the trace page and its downloads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dre.crashes import selectors
from dre.crashes.models import Issue
from dre.crashes.services import CoredumpUnreadable, coredump_bytes
from dre.diagnostics.selectors import coredump_log_lines
from dre.fleet.models import Device
from dre.web import inspection
from dre.web.access import project_access
from dre.web.views.common import int_param, query_with, render_page
from symbolicator.reasons import reason_name

GET = ["GET", "HEAD"]


@login_required
@require_http_methods(GET)
def trace_list(request, org, project):
    access = project_access(request, org, project)
    issue = device = None
    if issue_id := int_param(request, "issue"):
        issue = get_object_or_404(Issue, project=access.project, pk=issue_id)
    if device_id := int_param(request, "device"):
        device = get_object_or_404(
            Device.objects.select_related("hardware_version", "software_version", "cohort"),
            project=access.project,
            pk=device_id,
        )
    page = selectors.trace_list(
        access.project,
        issue=issue,
        device=device,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    context = {
        "issue": issue,
        "device": device,
        "page": page,
        "older": query_with(request, after=page.next, before=None) if page.next else None,
        "newer": query_with(request, before=page.previous, after=None) if page.previous else None,
    }
    return render_page(request, "web/trace_list.html", context)


def _trace(request, org, project, trace_id):
    access = project_access(request, org, project)
    trace = selectors.trace_get(access.project, trace_id)
    if trace is None:
        raise Http404("no such trace")
    return trace


@login_required
@require_http_methods(GET)
def trace_detail(request, org, project, trace_id):
    trace = _trace(request, org, project, trace_id)
    coredump = trace.coredump
    threads = trace.data.get("threads", [])
    crashed = next((n for n, t in enumerate(threads) if t.get("crashed")), 0)
    context = {
        "trace": trace,
        "coredump": coredump,
        "threads": threads,
        "reason": reason_name(coredump.trace_reason),
        "elf_core": coredump.symbol_file_id is not None,
        "logs": coredump_log_lines(coredump.pk),
        "config": {
            "base": reverse("trace-detail", args=[org, project, trace.pk]),
            "crashed": crashed,
            "memory": _first_stack_pointer(threads, crashed),
        },
    }
    return render_page(request, "web/trace_detail.html", context)


@login_required
@require_http_methods(GET)
def trace_coredump(request, org, project, trace_id):
    """The coredump's bytes as the device made them (an RLE upload expanded)."""
    trace = _trace(request, org, project, trace_id)
    try:
        data = coredump_bytes(trace.coredump)
    except (OSError, CoredumpUnreadable) as exc:
        raise Http404("the coredump's bytes are gone") from exc
    return _attachment(data, f"trace-{trace.pk}-coredump.bin")


@login_required
@require_http_methods(GET)
def trace_elf_core(request, org, project, trace_id):
    """An ELF core file for `gdb-multiarch firmware.elf core`."""
    trace = _trace(request, org, project, trace_id)
    try:
        data = inspection.elf_core_bytes(inspection.trace_load(trace))
    except inspection.Unavailable as exc:
        raise Http404(str(exc)) from exc
    return _attachment(data, f"trace-{trace.pk}-core.elf")


def _first_stack_pointer(threads: list[dict], crashed: int) -> str:
    """Where the memory viewer opens: the crashing frame's stack."""
    frames = threads[crashed].get("frames", []) if threads else []
    sp = (frames[0].get("registers") or {}).get("sp") if frames else None
    return f"0x{sp:08x}" if sp is not None else ""


def _attachment(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response

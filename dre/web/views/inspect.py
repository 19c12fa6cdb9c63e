"""The trace page's JSON endpoints: variables, registers, disassembly, memory, globals.

Session-authenticated GETs scoped like the pages; every string in an answer came from
a device or its firmware and is inserted into the page as text, never as HTML.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from dre.web import inspection
from dre.web.views.common import int_param, json_error
from dre.web.views.traces import _trace


def endpoint(view):
    """Load the trace's coredump and index for `view(request, loaded, ...)`."""

    @login_required
    @require_GET
    @wraps(view)
    def wrapper(request, org, project, trace_id, **kwargs):
        trace = _trace(request, org, project, trace_id)
        try:
            return JsonResponse(view(request, inspection.trace_load(trace), **kwargs))
        except inspection.Unavailable as exc:
            return json_error(str(exc))

    return wrapper


@endpoint
def frame_variables(request, loaded, thread, frame):
    return inspection.variables_of_frame(loaded, thread, frame)


@endpoint
def variable_children(request, loaded):
    try:
        root = json.loads(request.GET.get("root", ""))
        path = [int(p) for p in request.GET.get("path", "").split(".") if p != ""]
    except ValueError as exc:
        raise inspection.Unavailable("root is JSON and path dotted numbers") from exc
    root = inspection.parse_root(root)
    return inspection.variable_children(loaded, root, path, max(int_param(request, "offset"), 0))


@endpoint
def frame_registers(request, loaded, thread, frame):
    loaded.frame(thread, frame)
    return inspection.registers_of_frame(loaded, thread, frame)


@endpoint
def frame_disassembly(request, loaded, thread, frame):
    return inspection.disassembly_of_frame(loaded, thread, frame)


@endpoint
def memory(request, loaded):
    at = request.GET.get("at", "").strip()
    if not at:
        raise inspection.Unavailable("say where: an address or a symbol")
    return inspection.memory_at(loaded, at, int_param(request, "length", inspection.MEMORY_VIEW))


@endpoint
def memory_regions(request, loaded):
    return {"regions": inspection.memory_regions(loaded)}


@endpoint
def globals_search(request, loaded):
    return inspection.globals_matching(
        loaded, request.GET.get("q", ""), max(int_param(request, "offset"), 0)
    )

"""What every page shares: the project and role in the context, JSON answers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render


def render_page(request, template: str, context: dict, status: int = 200):
    access = getattr(request, "access", None)
    if access is not None:
        context = {"project": access.project, "access": access, **context}
    return render(request, template, context, status=status)


def json_error(message: str, status: int = 404) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def query_with(request, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = {k: v for k, v in request.GET.items() if v != ""}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def int_param(request, name: str, default: int = 0) -> int:
    try:
        return int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default

"""An issue's and a trace's title, from the trace and, once grouped, its grouping."""

from __future__ import annotations

import symbolicator
from dre.crashes import grouping


def trace_title(data: dict, result: grouping.GroupingResult | None = None) -> str:
    """The symbolicator's fault title ("UsageFault: divide by zero in calc_ratio"), else
    the trace reason and the top function. With a grouping result, a title that names a
    function grouping left out (an assert hook, a kernel function) names the top in-app
    function instead."""
    function = result.title_function if result is not None else _top_function(data)
    if data.get("title"):
        return _in_app_title(data["title"], data, result, function)[:300]
    reason = symbolicator.reasons.reason_name(data.get("trace_reason"))
    return f"{reason} in {function}" if function else reason


def _in_app_title(title: str, data: dict, result, function: str | None) -> str:
    place = ((data.get("fault") or {}).get("place") or {}).get("function")
    if result is None or not function or not place or not title.endswith(f" in {place}"):
        return title
    contributing = {c.value for c in result.components if c.contributes}
    return title if place in contributing else f"{title[: -len(place)]}{function}"


def _top_function(data: dict) -> str | None:
    for thread in data.get("threads", []):
        if thread.get("crashed"):
            return next((f["function"] for f in thread["frames"] if f.get("function")), None)
    return None

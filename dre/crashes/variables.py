"""A trace's variables (each frame's arguments and locals), read on first open.

The worker stores traces without them (symbolicator.symbolicate(..., variables=False):
they are most of a coredump's symbolication time, and grouping, titles, issue lists and
alerts never use them); such a trace's data says `"variables": "deferred"`. The first
read that shows them (the REST trace detail, the issue comparison) reads them from the
stored coredump and the symbol file's index, exactly as the eager call would have
(symbolicator.variables_read), and stores them back on the trace, so later reads are
plain loads. The trace page reads each frame's variables from the coredump itself
(dre.web.inspection), as before.

When they cannot be read (the coredump's blob is gone, the frames unwound now are not
the stored ones), the trace is shown without them and says why: `"variables":
"unavailable"` with `"variables_problem"`. Nothing is stored then, so the next read
tries again.
"""

from __future__ import annotations

import logging

import symbolicator
from dre.crashes.models import Trace
from dre.crashes.sources import SourcesUnavailable, trace_sources_load

log = logging.getLogger(__name__)
VARIABLES_UNAVAILABLE = "unavailable"


def trace_variables_read(trace: Trace) -> Trace:
    """`trace` with its frames' variables in `trace.data`: read and stored now if its
    variables were deferred, else as it is."""
    if trace.data.get("variables") != symbolicator.VARIABLES_DEFERRED:
        return trace
    try:
        coredump, index = trace_sources_load(trace)
        data = symbolicator.variables_read(coredump, index, trace.data)
    except (SourcesUnavailable, symbolicator.SymbolicatorError) as exc:
        log.warning("trace %s: variables unavailable: %s", trace.pk, exc)
        trace.data = {
            **trace.data,
            "variables": VARIABLES_UNAVAILABLE,
            "variables_problem": str(exc),
        }
        return trace
    # Only over the data they were read from: a reprocessing that replaced it meanwhile
    # keeps its own (and reads its variables on its own first open).
    Trace.objects.filter(pk=trace.pk, data=trace.data).update(data=data)
    trace.data = data
    return trace

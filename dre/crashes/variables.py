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
from dre.crashes.symbolicate import coredump_bytes
from dre.ingest.wire import RleError
from dre.symbols.cache import symbol_index_load

log = logging.getLogger(__name__)
VARIABLES_UNAVAILABLE = "unavailable"


class VariablesUnavailable(Exception):
    """The trace's variables cannot be read; the message says why."""


def trace_variables_read(trace: Trace) -> Trace:
    """`trace` with its frames' variables in `trace.data`: read and stored now if its
    variables were deferred, else as it is."""
    if trace.data.get("variables") != symbolicator.VARIABLES_DEFERRED:
        return trace
    try:
        data = _read(trace)
    except VariablesUnavailable as exc:
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


def _read(trace: Trace) -> dict:
    coredump = trace.coredump
    if coredump.symbol_file is None:
        raise VariablesUnavailable("the trace has no symbol file")
    try:
        parsed = symbolicator.parse_coredump(coredump_bytes(coredump))
        index = symbol_index_load(coredump.symbol_file)
        return symbolicator.variables_read(parsed, index, trace.data)
    except OSError as exc:
        raise VariablesUnavailable(f"the coredump or its symbols cannot be read: {exc}") from exc
    except (RleError, symbolicator.SymbolicatorError) as exc:
        raise VariablesUnavailable(str(exc)) from exc

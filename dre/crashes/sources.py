"""What a stored trace was made from, loaded again: its parsed coredump and the symbol
index of its symbol file.

The worker keeps only what grouping and the lists need (dre.crashes.symbolicate). Reading
more later — a trace's variables on its first open (dre.crashes.variables), the trace
page's variables, registers, memory and globals (dre.web.inspection) — starts from these
two again. The coredump is parsed on each call (tens of kilobytes, well under a
millisecond); the index comes from the per-process cache of dre.symbols.cache.
"""

from __future__ import annotations

from typing import NamedTuple

import symbolicator
from dre.crashes.models import Trace
from dre.crashes.symbolicate import CoredumpUnreadable, coredump_bytes
from dre.symbols.cache import symbol_index_load


class SourcesUnavailable(Exception):
    """The trace's coredump or symbol index cannot be loaded; the message says why."""


class TraceSources(NamedTuple):
    coredump: symbolicator.Coredump
    index: symbolicator.SymbolIndex


def trace_sources_load(trace: Trace) -> TraceSources:
    """The trace's coredump and symbol index, or SourcesUnavailable saying why not: no
    symbol file, a blob gone or unreadable, bytes that no longer parse."""
    coredump = trace.coredump
    if coredump.symbol_file is None:
        raise SourcesUnavailable("the trace has no symbol file")
    try:
        parsed = symbolicator.parse_coredump(coredump_bytes(coredump))
        return TraceSources(parsed, symbol_index_load(coredump.symbol_file))
    except (OSError, CoredumpUnreadable, symbolicator.SymbolicatorError) as exc:
        raise SourcesUnavailable(f"the coredump or its symbols cannot be read: {exc}") from exc

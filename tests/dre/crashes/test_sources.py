"""A stored trace's coredump and symbol index, loaded again for what the worker did not
keep: the index from the per-process cache, and a reason whenever either cannot be read."""

import pytest

import symbolicator
from dre import blobs
from dre.crashes.models import Coredump, Trace
from dre.crashes.sources import SourcesUnavailable, trace_sources_load
from dre.symbols.cache import symbol_index_cache_clear, symbol_index_load
from tests.dre.conftest import send_coredump

pytestmark = pytest.mark.django_db


@pytest.fixture
def trace(project, symbol_file, run_on_commit):
    coredump = run_on_commit(send_coredump, project)
    return _fresh(Trace.objects.get(coredump=coredump))


def _fresh(trace: Trace) -> Trace:
    return Trace.objects.select_related("coredump__symbol_file").get(pk=trace.pk)


def test_it_loads_the_coredump_the_trace_was_made_from_and_its_symbol_index(trace):
    coredump, index = trace_sources_load(trace)

    redone = symbolicator.symbolicate(coredump, index, variables=False).to_dict()
    assert redone["threads"] == trace.data["threads"]


def test_it_takes_the_index_from_the_cache_without_reading_the_symbols_again(trace):
    first = trace_sources_load(trace).index
    blobs.blob_delete(trace.coredump.symbol_file.index_blob)

    assert trace_sources_load(_fresh(trace)).index is first
    assert first is symbol_index_load(trace.coredump.symbol_file)


def test_it_says_when_the_trace_has_no_symbol_file(trace):
    Coredump.objects.filter(pk=trace.coredump_id).update(symbol_file=None)

    with pytest.raises(SourcesUnavailable, match="the trace has no symbol file"):
        trace_sources_load(_fresh(trace))


def test_it_says_when_the_coredump_is_gone(trace):
    Coredump.objects.filter(pk=trace.coredump_id).update(raw=None, blob="coredumps/gone.core")

    with pytest.raises(SourcesUnavailable, match="the coredump or its symbols cannot be read"):
        trace_sources_load(_fresh(trace))


def test_it_says_when_the_coredump_no_longer_parses(trace):
    Coredump.objects.filter(pk=trace.coredump_id).update(raw=b"not a coredump", blob="")

    with pytest.raises(SourcesUnavailable, match="the coredump or its symbols cannot be read"):
        trace_sources_load(_fresh(trace))


def test_it_says_when_the_symbols_are_gone(trace):
    symbol_file = trace.coredump.symbol_file
    blobs.blob_delete(symbol_file.index_blob)
    blobs.blob_delete(symbol_file.blob)
    symbol_index_cache_clear()

    with pytest.raises(SourcesUnavailable, match="the coredump or its symbols cannot be read"):
        trace_sources_load(_fresh(trace))

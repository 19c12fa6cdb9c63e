"""A trace's variables: deferred by the worker, read and stored on the first open."""

import pytest

import symbolicator
from dre.crashes.models import Coredump, Trace
from dre.crashes.variables import VARIABLES_UNAVAILABLE, trace_variables_read
from tests.dre.conftest import send_coredump
from tests.firmware_fixtures import coredump_path, elf_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def trace(project, symbol_file, run_on_commit):
    coredump = run_on_commit(send_coredump, project)
    return Trace.objects.select_related("coredump__symbol_file").get(coredump=coredump)


def eager_trace() -> dict:
    """What symbolicating the same coredump with its variables at once gives."""
    index = symbolicator.build_index(elf_path("an385-O0").read_bytes())
    coredump = symbolicator.parse_coredump(coredump_path("an385-O0", "null_write").read_bytes())
    return symbolicator.symbolicate(coredump, index).to_dict()


def test_the_worker_stores_the_trace_with_its_variables_deferred(trace):
    assert trace.data["variables"] == symbolicator.VARIABLES_DEFERRED
    assert all(not f["arguments"] and not f["locals"] for f in trace.data["threads"][0]["frames"])
    assert trace.coredump.state == Coredump.State.GROUPED


def test_the_first_read_stores_exactly_the_variables_symbolicating_at_once_reads(trace):
    read = trace_variables_read(trace)

    assert read.data == eager_trace()
    assert Trace.objects.get(pk=trace.pk).data == read.data
    first = read.data["threads"][0]["frames"][0]
    assert {"name": "word", "text": "0xc <g_vector_table+12>"}.items() <= first["arguments"][
        0
    ].items()


def test_a_later_read_is_a_plain_load_that_needs_no_coredump(trace):
    trace_variables_read(trace)
    Coredump.objects.filter(pk=trace.coredump_id).update(raw=None, blob="coredumps/gone.core")

    again = trace_variables_read(
        Trace.objects.select_related("coredump__symbol_file").get(pk=trace.pk)
    )

    assert again.data == eager_trace()


def test_it_says_why_it_cannot_read_them_and_stores_nothing(trace):
    Coredump.objects.filter(pk=trace.coredump_id).update(raw=None, blob="coredumps/gone.core")
    trace.coredump.refresh_from_db()

    shown = trace_variables_read(trace)

    assert shown.data["variables"] == VARIABLES_UNAVAILABLE
    assert "the coredump or its symbols cannot be read" in shown.data["variables_problem"]
    stored = Trace.objects.get(pk=trace.pk).data
    assert stored["variables"] == symbolicator.VARIABLES_DEFERRED
    assert "variables_problem" not in stored


def test_it_leaves_a_trace_stored_with_its_variables_as_it_is(trace, django_assert_num_queries):
    Trace.objects.filter(pk=trace.pk).update(data=eager_trace())
    trace.refresh_from_db()

    with django_assert_num_queries(0):
        assert trace_variables_read(trace).data == eager_trace()

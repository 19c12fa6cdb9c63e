"""Two workers grouping traces with the same fingerprint at the same moment make one issue.

Needs PostgreSQL: its row locks and unique index are what the grouping relies on.
"""

import threading

import pytest
from django.db import connection

from dre.crashes.models import Coredump, Issue, Trace
from dre.crashes.services import trace_group
from dre.symbols.services import symbol_file_index
from tests.dre.conftest import send_coredump, store_elf

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def symbolicated_traces(project, count: int) -> list[Trace]:
    """Traces ready for grouping, all of one crash (so one fingerprint)."""
    from dre.crashes.services import coredump_symbolicate

    traces = []
    for _ in range(count):
        coredump = send_coredump(project)
        coredump_symbolicate(coredump.pk)
        traces.append(Trace.objects.get(coredump=coredump))
    return traces


def test_racing_workers_make_one_issue(project, monkeypatch):
    # Stages are run by hand here: the race is in trace_group, not in task wiring.
    monkeypatch.setattr("dre.crashes.services._queue_symbolicate", lambda *ids: None)
    monkeypatch.setattr("dre.crashes.symbolicate._group_after_commit", lambda traces: None)
    monkeypatch.setattr("dre.symbols.services._queue_index", lambda pk: None)
    symbol_file_index(store_elf(project).pk)
    traces = symbolicated_traces(project, 6)
    assert Coredump.objects.filter(state=Coredump.State.SYMBOLICATED).count() == 6
    start = threading.Barrier(len(traces))
    errors = []

    def work(trace_id):
        try:
            start.wait()
            trace_group(trace_id)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(t.pk,)) for t in traces]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    issue = Issue.objects.get()
    assert issue.trace_count == 6
    assert Coredump.objects.filter(state=Coredump.State.GROUPED).count() == 6

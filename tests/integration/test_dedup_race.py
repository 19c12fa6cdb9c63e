"""A device's retries arriving at the same moment store one coredump.

Needs PostgreSQL: the advisory lock taken per (project, device, content hash) is what
serializes the concurrent requests.
"""

import threading

import pytest
from django.db import connection

from dre.crashes.models import Coredump
from dre.fleet.services import device_seen
from tests.dre.conftest import send_coredump

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_retries_of_one_crash_store_one_coredump(project, monkeypatch):
    monkeypatch.setattr("dre.crashes.services._queue_symbolicate", lambda coredump_id: None)
    device = device_seen(project, "unit-7")
    start = threading.Barrier(6)
    stored, errors = [], []

    def retry():
        try:
            start.wait()
            stored.append(send_coredump(project, device=device).pk)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    requests = [threading.Thread(target=retry) for _ in range(6)]
    for request in requests:
        request.start()
    for request in requests:
        request.join()

    assert errors == []
    assert Coredump.objects.count() == 1
    assert set(stored) == {Coredump.objects.get().pk}

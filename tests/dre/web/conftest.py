"""Crashes for the pages, sent through the real pipeline (the cast of users is in
tests/conftest.py)."""

import pytest

from dre.crashes.models import Coredump, Issue
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.services import device_seen
from tests.firmware_fixtures import coredump_path


@pytest.fixture
def crash(project, symbol_file, run_on_commit, settings):
    """Send a fixture crash (an385-O0) as reported by a version and device; returns its Trace.
    The dump's own software version "1.0.0" is rewritten in place. Each call is a new
    crash, even with the same bytes from the same device (no re-send window)."""
    settings.DEDUP_WINDOW_SECONDS = 0

    def send(scenario="null_write", version="1.0.0", serial="dev-1"):
        data = coredump_path(scenario=scenario).read_bytes().replace(b"1.0.0", version.encode())
        coredump = run_on_commit(
            coredump_ingest_bytes,
            project,
            data,
            source=Coredump.Source.UPLOAD,
            device=device_seen(project, serial) if serial else None,
        )
        coredump.refresh_from_db()
        return coredump.trace

    return send


@pytest.fixture
def trace(crash):
    return crash()


@pytest.fixture
def issue(trace):
    return Issue.objects.get(pk=trace.issue_id)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def irq_trace(project, run_on_commit):
    """an385-O2's fault in an interrupt handler: inline, tail-call and exception frames."""
    from tests.dre.conftest import send_coredump, store_elf

    run_on_commit(store_elf, project, "an385-O2")
    coredump = run_on_commit(send_coredump, project, "an385-O2", "irq_fault")
    coredump.refresh_from_db()
    return coredump.trace

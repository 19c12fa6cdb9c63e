"""The pipeline under faults: a broker that is down, re-sent crashes, workers that die,
inputs that crash the worker. Real processes are killed in tests/integration; here the
services are called directly with the faults set up in the database."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from dre import leases
from dre.crashes.models import Coredump, Issue, Trace
from dre.crashes.services import (
    coredump_bytes,
    coredump_reprocess,
    coredump_symbolicate,
    coredumps_requeue_stuck,
)
from dre.crashes.tasks import symbolicate_coredump
from dre.fleet.services import device_seen
from tests.dre.conftest import send_coredump
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db
State = Coredump.State


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(symbolicate_coredump, "delay", refuse)


@pytest.fixture
def poison(monkeypatch):
    """Symbolication raises what no code path expects (a bug, not a bad input)."""

    def explode(parsed, index, **options):
        raise RuntimeError("unexpected register layout")

    monkeypatch.setattr("dre.crashes.services.symbolicator.symbolicate", explode)


def upload(client, project_key, serial="unit-7"):
    return client.post(
        f"/api/v0/upload/coredump?device_serial={serial}",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )


def expire_lease(coredump, attempts=None):
    past = timezone.now() - timedelta(seconds=1)
    changes = {"state": State.PROCESSING, "lease_expires": past}
    if attempts is not None:
        changes["attempts"] = attempts
    Coredump.objects.filter(pk=coredump.pk).update(**changes)


# -- a broker that is down ------------------------------------------------------------


def test_it_answers_202_and_keeps_the_coredump_when_the_broker_is_down(
    client, project_key, broker_down, run_on_commit
):
    response = run_on_commit(upload, client, project_key)

    assert response.status_code == 202
    coredump = Coredump.objects.get()
    assert (coredump.state, coredump.queued) == (State.RECEIVED, None)


def test_it_marks_a_coredump_queued_in_the_insert_that_stores_it(client, project_key):
    # One commit per upload: the publish after it does not write the row again.
    upload(client, project_key)  # its publish waits for a commit that never comes here

    assert Coredump.objects.get().queued is not None


def test_a_device_less_upload_commits_with_one_statement(
    client, project_key, django_assert_num_queries
):
    # INSERT in autocommit: no BEGIN, no COMMIT, no advisory lock (nothing to dedup by).
    client.post(
        "/api/v0/upload/coredump",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )  # warms the project key cache
    with django_assert_num_queries(1):
        response = client.post(
            "/api/v0/upload/coredump",
            coredump_path().read_bytes(),
            content_type="application/octet-stream",
            headers={"Memfault-Project-Key": project_key},
        )

    assert response.status_code == 202


def test_it_stores_a_crash_the_device_retries_once(client, project_key, broker_down):
    first = upload(client, project_key)
    second = upload(client, project_key)

    assert first.json() == second.json()
    assert Coredump.objects.count() == 1


def test_the_sweeper_publishes_what_the_broker_never_got(
    client, project_key, symbol_file, broker_down, monkeypatch, run_on_commit
):
    run_on_commit(upload, client, project_key)
    monkeypatch.undo()  # the broker is back
    later = timezone.now() + timedelta(seconds=10)

    run_on_commit(coredumps_requeue_stuck, later)

    assert Coredump.objects.get().state == State.GROUPED
    assert Issue.objects.get().trace_count == 1


def test_the_sweeper_leaves_a_just_received_coredump_to_its_own_message(project, broker_down):
    send_coredump(project)

    assert coredumps_requeue_stuck() == 0


def test_the_same_bytes_from_another_device_or_after_the_window_are_new_crashes(project, settings):
    first = send_coredump(project, device=device_seen(project, "unit-1"))
    other_device = send_coredump(project, device=device_seen(project, "unit-2"))
    Coredump.objects.filter(pk=first.pk).update(
        received=timezone.now() - timedelta(seconds=settings.DEDUP_WINDOW_SECONDS + 1)
    )
    after_window = send_coredump(project, device=device_seen(project, "unit-1"))

    assert len({first.pk, other_device.pk, after_window.pk}) == 3


# -- workers that die -----------------------------------------------------------------


def test_a_coredump_whose_worker_died_is_processed_after_its_lease_runs_out(
    project, symbol_file, run_on_commit
):
    coredump = send_coredump(project)
    expire_lease(coredump, attempts=1)

    assert run_on_commit(coredumps_requeue_stuck) == 1

    coredump.refresh_from_db()
    assert coredump.state == State.GROUPED
    assert Trace.objects.count() == 1


def test_a_live_lease_keeps_a_second_delivery_and_the_sweeper_away(project):
    coredump = send_coredump(project)
    token = leases.claim(Coredump, coredump.pk, [State.RECEIVED], State.PROCESSING)

    assert token == 1
    assert leases.claim(Coredump, coredump.pk, [State.RECEIVED], State.PROCESSING) is None
    assert coredumps_requeue_stuck(timezone.now() + timedelta(seconds=30)) == 0


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_next_one(
    project, symbol_file, monkeypatch
):
    coredump = send_coredump(project)
    real_symbolicate = "dre.crashes.services.symbolicator.symbolicate"
    import symbolicator

    original = symbolicator.symbolicate

    def stall_then_continue(parsed, index, **options):
        # While this worker stalls, its lease runs out and another worker claims it.
        expire_lease(coredump)
        leases.claim(Coredump, coredump.pk, [State.RECEIVED], State.PROCESSING)
        return original(parsed, index, **options)

    monkeypatch.setattr(real_symbolicate, stall_then_continue)
    coredump_symbolicate(coredump.pk)

    coredump.refresh_from_db()
    assert (coredump.state, coredump.attempts) == (State.PROCESSING, 2)
    assert not Trace.objects.exists()


def test_a_coredump_that_kills_its_worker_every_time_ends_failed(project):
    coredump = send_coredump(project)
    expire_lease(coredump, attempts=3)

    coredumps_requeue_stuck()

    coredump.refresh_from_db()
    assert coredump.state == State.FAILED
    assert "the worker died (killed, out of memory) or hit its hard time limit" in coredump.error


# -- poison inputs --------------------------------------------------------------------


def test_an_unexpected_error_is_retried_then_fails_with_error_and_traceback(
    project, symbol_file, poison, run_on_commit
):
    coredump = run_on_commit(send_coredump, project)

    coredump.refresh_from_db()
    assert coredump.state == State.FAILED
    assert coredump.attempts == 3
    assert coredump.error == "failed 3 times; last error: RuntimeError: unexpected register layout"
    assert "in explode" in coredump.traceback
    assert coredump_bytes(coredump) == coredump_path().read_bytes()


def test_a_failed_coredump_stays_failed_through_sweeps(project, symbol_file, poison, run_on_commit):
    coredump = run_on_commit(send_coredump, project)

    assert run_on_commit(coredumps_requeue_stuck, timezone.now() + timedelta(days=1)) == 0
    coredump.refresh_from_db()
    assert coredump.state == State.FAILED


def test_a_soft_time_limit_counts_as_a_failed_attempt(project, symbol_file, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(parsed, index, **options):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("dre.crashes.services.symbolicator.symbolicate", too_slow)
    coredump = send_coredump(project)  # not run on commit: one attempt by hand
    coredump_symbolicate(coredump.pk)

    coredump.refresh_from_db()
    assert (coredump.state, coredump.attempts) == (State.RECEIVED, 1)
    assert coredump.error.startswith("attempt 1 failed: SoftTimeLimitExceeded")


def test_a_database_blink_does_not_count_as_an_attempt(project, symbol_file, monkeypatch):
    from django.db import OperationalError

    def blink(parsed, index, **options):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("dre.crashes.services.symbolicator.symbolicate", blink)
    coredump = send_coredump(project)

    with pytest.raises(OperationalError):  # the task's autoretry takes it from here
        coredump_symbolicate(coredump.pk)

    coredump.refresh_from_db()
    assert (coredump.state, coredump.attempts) == (State.RECEIVED, 0)


# -- reprocess ------------------------------------------------------------------------


def test_a_failed_coredump_is_processed_again_after_the_fix(
    project, symbol_file, poison, monkeypatch, run_on_commit
):
    coredump = run_on_commit(send_coredump, project)
    monkeypatch.undo()  # the fix is deployed

    run_on_commit(coredump_reprocess, coredump)

    coredump.refresh_from_db()
    assert (coredump.state, coredump.error, coredump.traceback) == (State.GROUPED, "", "")


def test_only_a_failed_coredump_can_be_reprocessed(project, symbol_file, run_on_commit):
    coredump = run_on_commit(send_coredump, project)

    with pytest.raises(leases.NotFailed, match="is grouped, not failed"):
        coredump_reprocess(coredump)


def test_the_reprocess_command_queues_every_failed_coredump_of_a_project(
    project, symbol_file, poison, monkeypatch, django_capture_on_commit_callbacks, capsys
):
    with django_capture_on_commit_callbacks(execute=True):
        send_coredump(project, scenario="null_write")
        send_coredump(project, scenario="div_zero")
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess", "coredumps", "--failed", "acme/sensors")

    assert "queued coredump" in capsys.readouterr().out
    assert set(Coredump.objects.values_list("state", flat=True)) == {State.GROUPED}

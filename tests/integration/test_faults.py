"""Faults with real processes: a worker killed with SIGKILL mid-task, a broker restart
that loses every queued message, database connections terminated under a worker.

Each test runs its own redis-server on a free port and real Celery workers against
the test database, and checks that no coredump is lost or doubled and how long
recovery took. Leases are short here (PROCESSING_LEASE_SECONDS=3, a sweep every
second) so the tests stay fast; production defaults are 60 s and 30 s.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum

from dre.celery import app as celery_app
from dre.crashes.models import Coredump, Issue, Trace
from dre.symbols.models import SymbolFile
from tests.dre.conftest import send_coredump, store_elf
from tests.firmware_fixtures import coredump_path
from tests.integration.conftest import database_url, device_post, wait_for
from tests.integration.processes import Beat, RedisServer, Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
SWEEP_SECONDS = 1
# The bound the issue asks for; the figure measured is printed with -s.
RECOVERY_BOUND_SECONDS = 120
State = Coredump.State


@pytest.fixture
def symbol_file(project):
    """Indexed in this process before the broker is up, so that no worker has a
    message in flight when a test stops the broker (see README, "When workers die")."""
    symbol_file = store_elf(project)
    symbol_file.refresh_from_db()
    assert symbol_file.state == SymbolFile.State.READY
    return symbol_file


@pytest.fixture
def broker(tmp_path, symbol_file):
    """This test's own redis-server, used by the workers and by this process."""
    server = RedisServer(tmp_path)
    server.start()
    previous = celery_app.conf.broker_write_url
    _publish_to(server.url)
    celery_app.conf.task_always_eager = False
    yield server
    server.stop()
    _publish_to(previous)


def _publish_to(url: str) -> None:
    # The app resolved its write URL and caches its pools; reset both to switch brokers.
    # (Not force_close_all: kombu keeps pools in a registry by URL, and a closed one
    # would be handed out again when the URL comes back.)
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker_env(broker, settings) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "BLOB_ROOT": settings.MEDIA_ROOT,
        "DEBUG": "true",
        "CELERY_BROKER_URL": broker.url,
        "PROCESSING_LEASE_SECONDS": str(LEASE_SECONDS),
        "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
    }


@pytest.fixture
def processes():
    """Every worker and beat a test started; stopped, and their logs printed, after it."""
    started = []
    yield started
    for process in started:
        process.stop()
        print(f"--- {process.log.name}\n{process.output()}")


@pytest.fixture
def start_worker(worker_env, processes, tmp_path):
    def start(name: str, *, beat: bool = False) -> Worker:
        worker = Worker(worker_env, tmp_path / f"{name}.log", beat=beat)
        processes.append(worker)
        worker.wait_ready()
        return worker

    return start


@pytest.fixture
def start_beat(worker_env, processes, tmp_path):
    def start() -> Beat:
        beat = Beat(worker_env, tmp_path / "beat.log")
        processes.append(beat)
        return beat

    return start


@contextmanager
def traces_locked():
    """Block writes to the trace table from another connection: a worker waits at
    its trace INSERT, mid-task (PROCESSING), for as long as the test wants. Reads
    go on. (Not the symbol file's row: a READY one is read without a lock.)"""
    with psycopg.connect(database_url()) as holder:
        holder.execute("LOCK TABLE crashes_trace IN EXCLUSIVE MODE")
        yield holder.info.backend_pid
        holder.rollback()


def count_in(state: str) -> int:
    return Coredump.objects.filter(state=state).count()


def assert_each_crash_counted_once(crashes: int) -> None:
    assert Coredump.objects.count() == crashes
    assert Trace.objects.count() == crashes
    assert Issue.objects.aggregate(n=Sum("trace_count"))["n"] == crashes


def test_a_worker_killed_mid_task_loses_and_doubles_nothing(
    project, symbol_file, start_worker, capsys
):
    with traces_locked():
        doomed = start_worker("doomed")
        for scenario in ("null_write", "div_zero"):
            send_coredump(project, scenario=scenario)
        wait_for(lambda: count_in(State.PROCESSING) == 2, timeout=30)
        doomed.kill()
        killed = time.monotonic()
    start_worker("survivor", beat=True)

    wait_for(lambda: count_in(State.GROUPED) == 2, timeout=60, interval=0.1)
    recovery = time.monotonic() - killed

    assert_each_crash_counted_once(2)
    assert sorted(Coredump.objects.values_list("attempts", flat=True)) == [2, 2]
    assert recovery < RECOVERY_BOUND_SECONDS
    with capsys.disabled():
        print(f"\nkill -9 mid-task: 2 coredumps grouped {recovery:.1f}s after the kill")


def test_pool_processes_killed_mid_task_lose_and_double_nothing(
    project, symbol_file, start_worker, start_beat, capsys
):
    start_beat()  # the sweeper, apart from the worker as many deployments run it
    with traces_locked():
        worker = start_worker("worker")
        send_coredump(project)
        wait_for(lambda: count_in(State.PROCESSING) == 1, timeout=30)
        killed_pids = worker.kill_pool_processes()  # what the OOM killer does
        killed = time.monotonic()
    wait_for(lambda: count_in(State.GROUPED) == 1, timeout=60, interval=0.1)
    recovery = time.monotonic() - killed

    assert killed_pids
    assert worker.process.poll() is None  # the worker lives on with new pool processes
    assert_each_crash_counted_once(1)
    assert Coredump.objects.get().attempts == 2
    assert recovery < RECOVERY_BOUND_SECONDS
    with capsys.disabled():
        print(f"\nkill -9 of pool processes: the coredump grouped {recovery:.1f}s after the kill")


def test_a_broker_restart_loses_and_doubles_nothing(
    project, symbol_file, project_key, live_server, broker, start_worker, capsys
):
    worker = start_worker("worker", beat=True)
    broker.stop()

    answers = [
        device_post(
            f"{live_server.url}/api/v0/upload/coredump?device_serial=unit-7",
            coredump_path().read_bytes(),
            project_key,
            timeout=30,
        )
        for _attempt in range(2)  # the device retries, as it would after an error
    ]
    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert Coredump.objects.get().queued is None  # stored, not queued: the outbox has it

    broker.start()
    restarted = time.monotonic()

    def grouped() -> bool:
        worker.supervise()
        return count_in(State.GROUPED) == 1

    wait_for(grouped, timeout=60, interval=0.1)
    recovery = time.monotonic() - restarted

    assert_each_crash_counted_once(1)
    assert recovery < RECOVERY_BOUND_SECONDS
    with capsys.disabled():
        print(
            f"\nbroker restart: the coredump grouped {recovery:.1f}s after redis came back "
            f"(worker restarted {worker.restarts} times by its supervisor)"
        )


def test_terminated_database_connections_lose_and_double_nothing(
    project, symbol_file, start_worker, capsys
):
    with traces_locked() as holder_pid:
        start_worker("worker", beat=True)
        send_coredump(project)
        wait_for(lambda: count_in(State.PROCESSING) == 1, timeout=30)
        terminated = terminate_other_backends(keep=holder_pid)
        dropped = time.monotonic()
    wait_for(lambda: count_in(State.GROUPED) == 1, timeout=60, interval=0.1)
    recovery = time.monotonic() - dropped

    assert terminated >= 1
    assert_each_crash_counted_once(1)
    assert Coredump.objects.get().attempts == 1  # a blink is not the input's fault
    assert SymbolFile.objects.get().state == SymbolFile.State.READY
    assert recovery < RECOVERY_BOUND_SECONDS
    with capsys.disabled():
        print(f"\npg_terminate_backend: the coredump grouped {recovery:.1f}s after the drop")


def terminate_other_backends(keep: int) -> int:
    """pg_terminate_backend of every session on the test database but ours and `keep`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
            [keep],
        )
        return cursor.fetchone()[0]

"""A real Celery worker, on the real broker, against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from dre.celery import app as celery_app
from tests.services import services_configured

QUEUES = "default,symbols,coredumps,grouping,maintenance"


def pytest_collection_modifyitems(items):
    integration = [item for item in items if "tests/integration" in str(item.fspath)]
    # Their Celery workers share one broker: under xdist (bin/test runs -n 2 --dist
    # loadgroup) they all run on one pytest worker, one after the other.
    for item in integration:
        item.add_marker(pytest.mark.xdist_group("integration"))
    if services_configured():
        return
    skip = pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL")
    for item in integration:
        item.add_marker(skip)


def database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return (
        f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def live_worker(transactional_db, settings):
    """Start `celery worker` in a subprocess and wait until it answers a ping."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "BLOB_ROOT": settings.MEDIA_ROOT,
        "DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dre",
            "worker",
            "--purge",
            "--concurrency",
            "2",
            "--queues",
            QUEUES,
            "--hostname",
            f"test-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        _wait_until_ready(worker)
        yield worker
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        print(output[-5000:])


def _wait_until_ready(worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited: {worker.stdout.read()[-3000:]}")
        if celery_app.control.ping(timeout=1):
            return
    raise RuntimeError("celery worker did not answer a ping within a minute")


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def device_post(url: str, data, project_key: str, timeout: float = 10) -> requests.Response:
    """POST `data` to `url` as a device does: raw bytes, with its project key."""
    headers = {"Memfault-Project-Key": project_key, "Content-Type": "application/octet-stream"}
    return requests.post(url, data=data, headers=headers, timeout=timeout)

"""The Celery application. Tasks live in each app's tasks.py."""

import gc
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")

app = Celery("dre")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _transient_errors():
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError

    return (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)


# Errors that say "try again later" (the database or broker blinked), not "this
# input is bad": they are retried and never count as a failed attempt.
TRANSIENT_ERRORS = _transient_errors()


# Options shared by every task: retried with backoff on errors that say "try
# again later" (the database or broker blinked), acknowledged only after the
# task ran so a worker that dies mid-task does not lose the message.
RETRY_ON_TRANSIENT_ERRORS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    # Within the broker's visibility timeout (PROCESSING_LEASE_SECONDS), so a
    # retry held by a worker is not also restored to the queue meanwhile.
    "retry_backoff_max": 60,
    "max_retries": 8,
    "acks_late": True,
}


@signals.worker_process_init.connect
def _on_worker_process_init(**kwargs) -> None:
    worker_heap_freeze()


def worker_heap_freeze() -> None:
    """Move what a worker process holds once set up (Django, the apps, their modules:
    hundreds of thousands of objects) out of the garbage collector's sight.

    They live as long as the process, yet every full collection walked them all: about
    80 ms each, every few hundred batches' worth of rows allocated, a tenth of a
    heartbeat worker's CPU. Frozen objects are never collected; only garbage cycles
    made of startup objects could leak, once, at most. Python's docs suggest the same
    for processes that fork without exec (gc.freeze)."""
    gc.collect()
    gc.freeze()

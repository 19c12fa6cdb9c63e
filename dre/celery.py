"""The Celery application. Tasks live in each app's tasks.py."""

import os

from celery import Celery

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

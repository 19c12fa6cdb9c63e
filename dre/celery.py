"""The Celery application. Tasks live in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")

app = Celery("dre")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _transient_errors():
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, ConnectionError, TimeoutError)


# Options shared by every task: retried with backoff on errors that say "try
# again later" (the database or broker blinked), acknowledged only after the
# task ran so a worker that dies mid-task does not lose the message.
RETRY_ON_TRANSIENT_ERRORS = {
    "autoretry_for": _transient_errors(),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
    "acks_late": True,
}

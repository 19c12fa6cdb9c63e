"""Leases on pipeline rows: who may work on a coredump or symbol file, and for how long.

A stage claims a row with a conditional UPDATE that bumps `attempts` and sets
`lease_expires`; the new `attempts` value is the claim's fencing token. While the
stage runs, a heartbeat thread pushes `lease_expires` forward. A worker killed
by `kill -9`, the OOM killer or a hard time limit stops renewing, so its lease
runs out within PROCESSING_LEASE_SECONDS and the row may be claimed again (by the
redelivered message or by the sweeper). A live worker keeps its lease, so its
work is never started twice; and every final write is conditional on the token,
so a worker that lost its lease (it stalled past it) cannot overwrite a newer one.
"""

from __future__ import annotations

import logging
import threading
import traceback
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from dre.celery import TRANSIENT_ERRORS
from dre.sql import update_returning

log = logging.getLogger(__name__)


def lease_until(now=None):
    return (now or timezone.now()) + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS)


def expired(now=None) -> Q:
    """Rows whose lease ran out. A row claimed before leases existed has none; it
    counts as expired once its state is older than a lease."""
    now = now or timezone.now()
    unleased_since = now - timedelta(seconds=settings.PROCESSING_LEASE_SECONDS)
    return Q(lease_expires__lt=now) | Q(
        lease_expires__isnull=True, state_changed__lt=unleased_since
    )


def claim(model, pk: int, from_states: list[str], to_state: str) -> int | None:
    """Move row `pk` into `to_state` with a fresh lease; return its fencing token.

    Claimable: a row in one of `from_states`, or one left in `to_state` by a worker
    whose lease ran out. A row that used up MAX_PROCESSING_ATTEMPTS is left for the
    sweeper, which marks it failed, so a poison input never loops.
    """
    now = timezone.now()
    claimable = Q(state__in=from_states) | (Q(state=to_state) & expired(now))
    # One conditional UPDATE that returns the new count: row-locked by PostgreSQL
    # while it runs, so two claims of one row cannot both match (the second
    # re-checks the WHERE against the first one's committed row).
    claimed = update_returning(
        model.objects.filter(claimable, pk=pk, attempts__lt=settings.MAX_PROCESSING_ATTEMPTS),
        ["attempts"],
        state=to_state,
        state_changed=now,
        attempts=F("attempts") + 1,
        lease_expires=lease_until(now),
    )
    return claimed[0][0] if claimed else None


def held(model, pk: int, token: int, state: str):
    """The queryset a fenced write goes through: empty once the claim was lost."""
    return model.objects.filter(pk=pk, attempts=token, state=state)


@contextmanager
def renewing(model, pk: int, token: int, state: str):
    """Keep the lease alive in a heartbeat thread while the body runs."""
    stop = threading.Event()
    interval = max(settings.PROCESSING_LEASE_SECONDS / 3, 0.5)
    thread = threading.Thread(
        target=_heartbeat, args=(model, pk, token, state, stop, interval), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _heartbeat(model, pk, token, state, stop: threading.Event, interval: float) -> None:
    # The thread has its own database connection (Django's are per thread); it
    # must close it, or each task would leak one.
    try:
        while not stop.wait(interval):
            try:
                held(model, pk, token, state).update(lease_expires=lease_until())
            except Exception:  # the database blinked: the next beat tries again
                log.warning("could not renew the lease of %s %s", model.__name__, pk)
                connection.close()
    finally:
        connection.close()


def drop_broken_connection() -> None:
    """After the database dropped us (a restart, pg_terminate_backend): let the next
    query reconnect. Only outside a transaction, where Django reconnects by itself."""
    if connection.in_atomic_block or connection.connection is None:
        return
    if not connection.is_usable():
        connection.close()


def hand_back(held_row, what: str) -> None:
    """After a database or broker blink: the held row goes back to RECEIVED for the
    task's retry, and the attempt does not count (it was not the input's fault). If the
    database is still down this fails too, and the lease running out brings it back."""
    try:
        drop_broken_connection()
        held_row.update(
            state=held_row.model.State.RECEIVED,
            state_changed=timezone.now(),
            attempts=F("attempts") - 1,
            lease_expires=None,
            queued=timezone.now(),
        )
    except TRANSIENT_ERRORS:
        log.warning("%s: could not hand back; its lease will run out", what)


def error_summary(exc: BaseException, limit: int = 6) -> tuple[str, str]:
    """The error line and a short traceback (innermost frames) for people to read."""
    message = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)[-limit:]
    return message, "".join(traceback.format_list(frames)) + message


def attempts_error(attempts: int, error: str, final: bool) -> str:
    if final:
        return f"failed {attempts} times; last error: {error}"
    return f"attempt {attempts} failed: {error}"


def died_error(attempts: int) -> str:
    return (
        f"processing stopped {attempts} times without finishing: the worker died "
        "(killed, out of memory) or hit its hard time limit"
    )

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
from django.db import connection, transaction
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
    """Move row `pk` into `to_state` with a fresh lease; return its fencing token."""
    return claim_many(model, [pk], from_states, to_state).get(pk)


def claim_many(model, pks: list[int], from_states: list[str], to_state: str) -> dict[int, int]:
    """Move the rows of `pks` that can be claimed into `to_state` with a fresh lease;
    return {pk: fencing token} of those claimed.

    Claimable: a row in one of `from_states`, or one left in `to_state` by a worker
    whose lease ran out. A row that used up MAX_PROCESSING_ATTEMPTS is left for the
    sweeper, which marks it failed, so a poison input never loops.
    """
    if not pks:
        return {}
    now = timezone.now()
    claimable = Q(state__in=from_states) | (Q(state=to_state) & expired(now))
    # One conditional UPDATE that returns the new counts: each row is locked by
    # PostgreSQL while it runs, so two claims of one row cannot both match (the
    # second re-checks the WHERE against the first one's committed row). Rows a
    # concurrent batch holds are simply not in our answer.
    claimed = update_returning(
        model.objects.filter(claimable, pk__in=pks, attempts__lt=settings.MAX_PROCESSING_ATTEMPTS),
        ["id", "attempts"],
        state=to_state,
        state_changed=now,
        attempts=F("attempts") + 1,
        lease_expires=lease_until(now),
    )
    return dict(claimed)


def held(model, pk: int, token: int, state: str):
    """The queryset a fenced write goes through: empty once the claim was lost."""
    return model.objects.filter(pk=pk, attempts=token, state=state)


def held_many(model, tokens: dict[int, int], state: str):
    """The rows of `tokens` ({pk: token}) whose claims still hold."""
    still = Q(pk__in=[])
    for pk, token in tokens.items():
        still |= Q(pk=pk, attempts=token)
    return model.objects.filter(still, state=state)


@contextmanager
def renewing(model, tokens: dict[int, int], state: str):
    """Keep the leases of `tokens` ({pk: token}) alive in a heartbeat thread while
    the body runs."""
    stop = threading.Event()
    interval = max(settings.PROCESSING_LEASE_SECONDS / 3, 0.5)
    thread = threading.Thread(
        target=_heartbeat, args=(model, dict(tokens), state, stop, interval), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _heartbeat(model, tokens, state, stop: threading.Event, interval: float) -> None:
    # The thread has its own database connection (Django's are per thread); it
    # must close it, or each task would leak one.
    try:
        while not stop.wait(interval):
            try:
                held_many(model, tokens, state).update(lease_expires=lease_until())
            except Exception:  # the database blinked: the next beat tries again
                log.warning("could not renew the leases of %s %s", model.__name__, list(tokens))
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


def attempt_failed(model, pk: int, token: int, state: str, exc: Exception, requeue) -> None:
    """An unexpected error in the stage holding row `pk` (claimed with `token`, which
    is its attempt count) in `state`: record it, and send the row
    back to RECEIVED (`requeue(pk)` queues it on commit) until MAX_PROCESSING_ATTEMPTS
    are used, then to FAILED, so a poison input never loops. The same outbox rule as
    everywhere: the write that makes a row wait sets `queued`, a publish that fails
    clears it for the sweeper."""
    error, summary = error_summary(exc)
    final = token >= settings.MAX_PROCESSING_ATTEMPTS
    now = timezone.now()
    with transaction.atomic():
        moved = held(model, pk, token, state).update(
            state=model.State.FAILED if final else model.State.RECEIVED,
            state_changed=now,
            error=attempts_error(token, error, final),
            traceback=summary,
            lease_expires=None,
            queued=None if final else now,
        )
        if moved and not final:
            requeue(pk)


def expired_leases_recover(model, state: str, requeue, now=None) -> int:
    """The sweeper's part for rows whose worker died holding them (kill -9, OOM, hard
    time limit): back to RECEIVED and queued again, or FAILED once the last attempt
    is used. Returns how many rows moved."""
    now = now or timezone.now()
    expired_rows = model.objects.filter(expired(now), state=state)
    count = 0
    for pk, attempts in expired_rows.values_list("pk", "attempts"):
        final = attempts >= settings.MAX_PROCESSING_ATTEMPTS
        changes = {"state": model.State.RECEIVED, "state_changed": now, "queued": now}
        if final:
            changes.update(state=model.State.FAILED, error=died_error(attempts), queued=None)
        with transaction.atomic():
            # Conditional on the same expired claim: a worker that claimed it
            # meanwhile holds a fresh lease and a new token.
            moved = expired_rows.filter(pk=pk, attempts=attempts).update(
                lease_expires=None, **changes
            )
            if moved and not final:
                requeue(pk)
        count += moved
    return count


class NotFailed(Exception):
    """Only a failed coredump or symbol file is processed again."""


def failed_restart(row, what: str) -> None:
    """Send a FAILED row back to RECEIVED with its attempts and errors cleared, queued
    to be processed again from its kept input (the caller publishes it); NotFailed if
    it is not failed. Conditional on FAILED, so two restarts queue it once."""
    now = timezone.now()
    moved = (
        type(row)
        .objects.filter(pk=row.pk, state=row.State.FAILED)
        .update(
            state=row.State.RECEIVED,
            state_changed=now,
            attempts=0,
            error="",
            traceback="",
            queued=now,
            lease_expires=None,
        )
    )
    if not moved:
        row.refresh_from_db(fields=["state"])
        raise NotFailed(f"{what} {row.pk} is {row.state}, not failed")


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

"""Publishing the crash pipeline's tasks without losing one to a broker outage.

The write that makes a coredump wait for a task (the INSERT of an upload, a stage's
final UPDATE) sets `queued`; the task is published once that write commits. When
publishing fails, `queued` goes back to None and the sweeper publishes the row once
the broker is back (an outbox). Only a process that dies between the commit and the
publish leaves `queued` set on an unpublished row: the sweeper then publishes it
STUCK_AFTER_SECONDS later, as it does for a broker that lost its queue.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from dre.celery import TRANSIENT_ERRORS
from dre.crashes.models import Coredump, Trace

log = logging.getLogger(__name__)
State = Coredump.State


def queue_symbolicate(coredump_id: int) -> None:
    """Publish the symbolicate task after commit."""
    transaction.on_commit(lambda: publish_symbolicate(coredump_id))


def publish_symbolicate(coredump_id: int, mark: bool = False) -> bool:
    from dre.crashes.tasks import symbolicate_coredump

    return publish(symbolicate_coredump, coredump_id, coredump_id, State.RECEIVED, mark)


def publish_group(coredump_id: int, mark: bool = False) -> bool:
    from dre.crashes.tasks import group_trace

    trace_id = Trace.objects.filter(coredump=coredump_id).values_list("pk", flat=True).first()
    return trace_id is None or publish(group_trace, trace_id, coredump_id, State.SYMBOLICATED, mark)


def publish(task, argument: int, coredump_id: int, waiting_for: str, mark: bool = False) -> bool:
    """Hand a task to the broker; a broker that is down loses nothing.

    `mark`: the sweeper's publish of a row whose `queued` it has to set itself.
    """
    try:
        task.delay(argument)
    except Exception as exc:  # kombu and redis-py raise several kinds; all mean "not queued"
        log.warning(
            "could not queue %s for coredump %s (%s); the sweeper will", task.name, coredump_id, exc
        )
        mark_queued(coredump_id, waiting_for, None)
        return False
    if mark:
        mark_queued(coredump_id, waiting_for, timezone.now())
    return True


def mark_queued(coredump_id: int, waiting_for: str, queued) -> None:
    # Only while the row still waits for this task: a worker may already have moved
    # it on, and a later stage's "not queued yet" must not be overwritten.
    try:
        Coredump.objects.filter(pk=coredump_id, state=waiting_for).update(queued=queued)
    except TRANSIENT_ERRORS:  # the row stays as it is; a later sweep sees it
        log.warning("coredump %s: could not record its outbox state", coredump_id)

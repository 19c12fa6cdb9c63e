"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.ingest import pending, services


@shared_task(queue="default", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def chunks_apply(pending_ids: list[int]) -> int:
    """Chunk requests that one group commit stored (dre/batching.py): one message for many."""
    return pending.pending_chunks_apply(pending_ids)


@shared_task(queue="maintenance", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def sweep_pending_chunks() -> int:
    return services.pending_chunks_requeue_stuck()

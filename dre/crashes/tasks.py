"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.crashes import services
from dre.symbols.services import symbol_files_requeue_stuck


@shared_task(queue="coredumps", soft_time_limit=240, time_limit=300, **RETRY_ON_TRANSIENT_ERRORS)
def symbolicate_coredump(coredump_id: int) -> None:
    services.coredump_symbolicate(coredump_id)


@shared_task(queue="coredumps", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def symbolicate_batch(coredump_ids: list[int]) -> None:
    """Received coredumps queued by one group commit (dre/batching.py): one message for
    many. Each is claimed on its own, so a retried or re-delivered batch redoes none."""
    services.coredumps_symbolicate(coredump_ids)


@shared_task(queue="grouping", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def group_trace(trace_id: int) -> None:
    services.trace_group(trace_id)


@shared_task(queue="maintenance", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def sweep_stuck_coredumps() -> int:
    return services.coredumps_requeue_stuck() + symbol_files_requeue_stuck()

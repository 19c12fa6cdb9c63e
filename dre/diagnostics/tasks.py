"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.diagnostics import resolution


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def resolve_trace_event(trace_event_id: int) -> None:
    resolution.trace_event_resolve(trace_event_id)


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def resolve_log_lines(project_id: int, source_event_id: int) -> int:
    return resolution.log_lines_resolve(project_id, source_event_id)


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def sweep_waiting_diagnostics() -> int:
    return resolution.diagnostics_sweep_waiting()

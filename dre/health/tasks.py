"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from datetime import date

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.health import resolution, rollups


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def resolve_heartbeat(interval_id: int) -> None:
    resolution.heartbeat_resolve(interval_id)


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def rollup_dirty_days() -> int:
    return rollups.rollup_dirty_days()


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def rollup_day(project_id: int, day: str) -> None:
    rollups.rollup_day(project_id, date.fromisoformat(day))

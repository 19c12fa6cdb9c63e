"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from datetime import date

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.health import partitions, resolution, rollups


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def resolve_heartbeat(interval_id: int) -> None:
    """Kept for messages queued before batches; new work uses resolve_heartbeats."""
    resolution.heartbeats_resolve([interval_id])


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def resolve_heartbeats(interval_ids: list[int]) -> int:
    return resolution.heartbeats_resolve(interval_ids)


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def rollup_dirty_days() -> int:
    return rollups.rollup_dirty_days()


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def rollup_day(project_id: int, day: str) -> None:
    rollups.rollup_day(project_id, date.fromisoformat(day))


@shared_task(queue="maintenance", soft_time_limit=540, time_limit=600, **RETRY_ON_TRANSIENT_ERRORS)
def maintain_partitions() -> dict:
    return partitions.partitions_maintain()

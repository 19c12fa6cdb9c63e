"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.monitors import services


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def evaluate_device(monitor_id: int, device_id: int) -> int:
    return len(services.device_evaluate(monitor_id, device_id))


@shared_task(queue="default", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def evaluate_fleet(monitor_id: int) -> str:
    return services.fleet_evaluate(monitor_id)


@shared_task(queue="maintenance", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def dispatch_fleet_monitors() -> int:
    return services.fleet_dispatch_due()


@shared_task(queue="maintenance", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def sweep_monitors() -> int:
    return services.observations_requeue_stuck() + services.observations_prune()

"""Thin task wrappers for releases: queues and limits live here."""

from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.releases import rollouts


@shared_task(queue="maintenance", soft_time_limit=240, time_limit=300, **RETRY_ON_TRANSIENT_ERRORS)
def evaluate_rollouts() -> dict:
    """Celery beat runs this every ROLLOUT_EVALUATION_SECONDS; two at once are safe."""
    return rollouts.rollouts_evaluate()

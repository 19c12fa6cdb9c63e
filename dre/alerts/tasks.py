"""Thin task wrappers: load by id, call a service. Queues and limits live here."""

import smtplib

from celery import shared_task

from dre.alerts import email, services, webhooks
from dre.celery import RETRY_ON_TRANSIENT_ERRORS

SMTP_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def evaluate_event(event_id: int) -> int:
    return len(services.event_evaluate(event_id))


# Retried by hand rather than autoretry: the delay follows the delivery's own attempt
# count (webhooks.backoff_seconds), which survives a worker restart.
@shared_task(bind=True, queue="default", soft_time_limit=50, time_limit=60, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    outcome = webhooks.delivery_attempt(delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(
    bind=True,
    queue="default",
    soft_time_limit=50,
    time_limit=60,
    autoretry_for=SMTP_ERRORS,
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=6,
    acks_late=True,
)
def send_email(self, email_id: int) -> bool:
    try:
        return email.email_send(email_id)
    except SMTP_ERRORS as error:
        if self.request.retries >= self.max_retries:
            email.email_give_up(email_id, str(error))
        raise


@shared_task(queue="default", soft_time_limit=50, time_limit=60, **RETRY_ON_TRANSIENT_ERRORS)
def send_webhook_disabled_notice(webhook_id: int) -> int:
    return email.webhook_disabled_notice(webhook_id)


@shared_task(queue="maintenance", soft_time_limit=100, time_limit=120, **RETRY_ON_TRANSIENT_ERRORS)
def sweep_stuck_deliveries() -> int:
    """Everything a rule decided to send, whose task was lost: evaluations, webhook
    deliveries, emails."""
    return (
        services.events_requeue_stuck()
        + webhooks.deliveries_requeue_stuck()
        + email.emails_requeue_stuck()
    )

"""Notification emails, through Django's email framework (EMAIL_URL picks the SMTP server)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.db.models import F
from django.utils import timezone

from dre.accounts.models import Membership, Role
from dre.alerts.models import EmailDelivery, Webhook
from dre.alerts.text import describe_details, describe_event, link

State = EmailDelivery.State


def email_send(email_pk: int) -> bool:
    """Send one notification email, at most once: claimed pending -> sending first.
    A failure puts it back to pending and raises, so the task retries it."""
    claimed = EmailDelivery.objects.filter(pk=email_pk, state=State.PENDING).update(
        state=State.SENDING, attempts=F("attempts") + 1, updated=timezone.now()
    )
    if not claimed:
        return False
    email = EmailDelivery.objects.select_related("notification__event").get(pk=email_pk)
    event = email.notification.event
    message = EmailMessage(
        subject=f"[dre] {describe_event(event.type, event.data)}"[:200],
        body=describe_details(event.type, event.data),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.address],
    )
    try:
        message.send()
    except Exception as error:
        EmailDelivery.objects.filter(pk=email_pk).update(
            state=State.PENDING, error=str(error), updated=timezone.now()
        )
        raise
    EmailDelivery.objects.filter(pk=email_pk).update(
        state=State.SENT, error="", updated=timezone.now()
    )
    return True


def email_give_up(email_pk: int, error: str) -> None:
    EmailDelivery.objects.filter(pk=email_pk).update(
        state=State.FAILED, error=error, updated=timezone.now()
    )


def emails_requeue_stuck(now=None) -> int:
    """Re-queue emails whose task was lost: pending long after their last change, or
    claimed by a worker that died before it said how sending went. The second kind is
    sent again: an email twice beats none (the SMTP server may or may not have taken it).
    Claimed by moving `updated`, so two sweeps queue an email once."""
    from dre.alerts.tasks import send_email

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = EmailDelivery.objects.filter(
        state__in=[State.PENDING, State.SENDING], updated__lt=cutoff
    ).values_list("pk", "updated")[:1000]
    requeued = 0
    for pk, updated in stuck:
        claimed = EmailDelivery.objects.filter(pk=pk, updated=updated).update(
            state=State.PENDING, updated=now
        )
        if claimed:
            send_email.delay_on_commit(pk)
            requeued += 1
    return requeued


def webhook_disabled_notice(webhook_id: int) -> int:
    """Tell the organization's admins that a webhook was switched off, and why."""
    webhook = Webhook.objects.select_related("project__organization").get(pk=webhook_id)
    project = webhook.project
    admins = Membership.objects.filter(
        organization=project.organization, role=Role.ADMIN, user__is_active=True
    ).exclude(user__email="")
    path = f"/{project.organization.slug}/{project.slug}/alerts/webhooks/{webhook.pk}/"
    body = (
        f"The webhook {webhook.name!r} ({webhook.url}) of {project.organization.slug}/"
        f"{project.slug} was {webhook.disabled_reason}.\n"
        f"Its deliveries and the button to enable it again: {link(path)}\n"
    )
    recipients = [m.user.email for m in admins.select_related("user")]
    if not recipients:
        return 0
    return send_mail(
        f"[dre] Webhook {webhook.name} disabled",
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )

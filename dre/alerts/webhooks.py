"""Webhook deliveries: the message, its signature, one HTTP attempt, backoff, disabling.

A generic webhook gets a JSON body:
    {"id": <delivery id>, "type": "issue.created", "timestamp": "...", "project": {...},
     "rule": {...}, "data": {...}}
with headers `X-Signature-SHA256` (hex HMAC-SHA256 of the raw body, keyed with the
webhook's secret), `Dre-Delivery` (the delivery id, the same on every retry, so a
receiver can drop repeats) and `Dre-Event`. This follows Memfault's webhooks
(`Memfault-Delivery`, `X-Signature-SHA256`; product-landscape.md, Notifications).
A Slack webhook gets Slack's incoming-webhook payload, `{"text": ...}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dre.alerts.models import DeliveryAttempt, Notification, Webhook, WebhookDelivery
from dre.alerts.text import describe_event

SIGNATURE_HEADER = "X-Signature-SHA256"
DELIVERY_HEADER = "Dre-Delivery"
EVENT_HEADER = "Dre-Event"
TEST_EVENT = "webhook.test"
State = WebhookDelivery.State


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int) -> int:
    """Delay before the next attempt after `attempts` failed ones: base, 2x, 4x..."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)


# -- creating deliveries ------------------------------------------------------------------


def delivery_create(webhook: Webhook, notification: Notification) -> WebhookDelivery:
    event, rule = notification.event, notification.rule
    message = {"type": event.type, "rule": {"id": rule.pk, "name": rule.name}, "data": event.data}
    return _create(webhook, notification, message)


def delivery_create_test(webhook: Webhook) -> WebhookDelivery:
    """The "send test" button: a delivery like any other, of type webhook.test."""
    message = {"type": TEST_EVENT, "rule": None, "data": {"message": "A test from dre."}}
    return _create(webhook, None, message)


def _create(webhook: Webhook, notification, message: dict) -> WebhookDelivery:
    from dre.alerts.tasks import deliver_webhook

    delivery = WebhookDelivery(webhook=webhook, notification=notification)
    delivery.event_type = message["type"]
    delivery.body = _body(webhook, delivery, message)
    delivery.save()
    deliver_webhook.delay_on_commit(delivery.pk)
    return delivery


def _body(webhook: Webhook, delivery: WebhookDelivery, message: dict) -> str:
    project = webhook.project
    if webhook.kind == Webhook.Kind.SLACK:
        return json.dumps({"text": describe_event(message["type"], message["data"], slack=True)})
    return json.dumps(
        {
            "id": str(delivery.delivery_id),
            "type": message["type"],
            "timestamp": timezone.now().isoformat(),
            "project": {"organization": project.organization.slug, "slug": project.slug},
            "rule": message["rule"],
            "data": message["data"],
        },
        sort_keys=True,
    )


# -- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # a WebhookDelivery.State; PENDING means "try again"
    retry_in: int | None = None


def delivery_attempt(delivery_pk: int) -> Outcome:
    """Send one attempt of a pending delivery and log it."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_pk)
    webhook = delivery.webhook
    if delivery.state != State.PENDING:
        return Outcome(delivery.state)
    if not webhook.enabled:
        _finish(delivery, State.FAILED, error="the webhook is disabled")
        return Outcome(State.FAILED)
    started = time.monotonic()
    status, error = post(webhook.url, delivery.body.encode(), headers(webhook, delivery))
    delivery.attempts += 1
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=status,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    delivery.status_code, delivery.error = status, error
    if not error:
        _succeeded(delivery)
        return Outcome(State.DELIVERED)
    return _failed(delivery)


def headers(webhook: Webhook, delivery: WebhookDelivery) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "dre-webhooks",
        SIGNATURE_HEADER: sign(webhook.secret, delivery.body.encode()),
        DELIVERY_HEADER: str(delivery.delivery_id),
        EVENT_HEADER: delivery.event_type,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere; the receiver must answer itself.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST and say how it went: (status code or None, error text or "" on a 2xx)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        return None, f"cannot connect: {error.reason}"
    except (OSError, ValueError) as error:  # a timeout mid-answer, a malformed answer
        return None, f"{type(error).__name__}: {error}"


def _succeeded(delivery: WebhookDelivery) -> None:
    _finish(delivery, State.DELIVERED)
    Webhook.objects.filter(pk=delivery.webhook_id).update(consecutive_failures=0)


def _failed(delivery: WebhookDelivery) -> Outcome:
    with transaction.atomic():
        Webhook.objects.filter(pk=delivery.webhook_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        webhook_disable_if_failing(delivery.webhook_id)
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        _finish(delivery, State.FAILED)
        return Outcome(State.FAILED)
    retry_in = backoff_seconds(delivery.attempts)
    delivery.next_attempt = timezone.now() + timedelta(seconds=retry_in)
    delivery.save(update_fields=["attempts", "status_code", "error", "next_attempt"])
    return Outcome(State.PENDING, retry_in=retry_in)


def _finish(delivery: WebhookDelivery, state: str, error: str | None = None) -> None:
    delivery.state, delivery.finished = state, timezone.now()
    if error is not None:
        delivery.error = error
    delivery.save(update_fields=["state", "finished", "attempts", "status_code", "error"])


def webhook_disable_if_failing(webhook_id: int) -> bool:
    """Disable a webhook after WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row,
    once (the conditional update), and tell the organization's admins."""
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    reason = f"disabled after {limit} failed attempts in a row"
    changed = Webhook.objects.filter(
        pk=webhook_id, enabled=True, consecutive_failures__gte=limit
    ).update(enabled=False, disabled_at=timezone.now(), disabled_reason=reason)
    if changed:
        from dre.alerts.tasks import send_webhook_disabled_notice

        send_webhook_disabled_notice.delay_on_commit(webhook_id)
    return bool(changed)


def deliveries_requeue_stuck(now=None) -> int:
    """Re-queue pending deliveries due more than STUCK_AFTER_SECONDS ago: their message
    was lost. Claimed by moving next_attempt, so two sweeps do not both re-queue one;
    a late original retry only repeats a delivery id the receiver drops."""
    from dre.alerts.tasks import deliver_webhook

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = WebhookDelivery.objects.filter(state=State.PENDING, next_attempt__lt=cutoff)
    requeued = 0
    for pk, due in stuck.values_list("pk", "next_attempt")[:1000]:
        claimed = WebhookDelivery.objects.filter(pk=pk, next_attempt=due).update(next_attempt=now)
        if claimed:
            deliver_webhook.delay_on_commit(pk)
            requeued += claimed
    return requeued

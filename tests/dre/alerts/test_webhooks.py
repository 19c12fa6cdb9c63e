"""Webhook deliveries to a real HTTP receiver: signed, deduplicable, retried, logged,
disabled when the receiver keeps failing."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dre import events
from dre.alerts import webhooks
from dre.alerts.models import Webhook, WebhookDelivery
from dre.alerts.services import webhook_enable

pytestmark = pytest.mark.django_db
T = events.EventType
State = WebhookDelivery.State


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_it_posts_a_signed_json_body_for_a_rule_that_fires(crash, make_rule, hook, receiver):
    make_rule(T.ISSUE_CREATED, webhooks=[hook], email=False)
    issue = crash()
    [request] = receiver.requests
    assert request.signature_ok
    body = request.json
    assert body["type"] == "issue.created" == request.headers["Dre-Event"]
    assert body["id"] == request.headers["Dre-Delivery"]
    assert body["data"]["issue"]["id"] == issue.pk
    assert body["project"] == {"organization": "acme", "slug": "sensors"}
    assert body["timestamp"].endswith("+00:00")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.status_code, delivery.attempts) == (State.DELIVERED, 200, 1)


def test_it_resends_the_same_bytes_and_delivery_id_until_the_receiver_takes_it(
    hook, receiver, run_on_commit
):
    receiver.fail_first = 2
    delivery = run_on_commit(webhooks.delivery_create_test, hook)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.headers["Dre-Delivery"] for r in receiver.requests} == {str(delivery.delivery_id)}
    assert all(r.signature_ok for r in receiver.requests)
    assert receiver.seen_ids == {str(delivery.delivery_id)}
    delivery.refresh_from_db()
    log = [(a.number, a.status_code) for a in delivery.attempt_log.all()]
    assert log == [(1, 503), (2, 503), (3, 200)]
    assert delivery.state == State.DELIVERED


def test_it_backs_off_exponentially_between_attempts(settings, hook, receiver):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.fail_first = 10
    delivery = webhooks._create(hook, None, {"type": "webhook.test", "rule": None, "data": {}})
    delays = [webhooks.delivery_attempt(delivery.pk).retry_in for _ in range(4)]
    assert delays == [30, 60, 120, None]  # the 4th failure is the last (WEBHOOK_MAX_ATTEMPTS)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.error) == (
        State.FAILED,
        4,
        "HTTP 503 Service Unavailable",
    )


def test_it_logs_a_receiver_that_cannot_be_reached(make_webhook, run_on_commit, receiver):
    receiver.stop()
    hook = make_webhook(receiver.url)
    delivery = run_on_commit(webhooks.delivery_create_test, hook)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert delivery.status_code is None
    assert delivery.attempt_log.first().error == "cannot connect: [Errno 111] Connection refused"
    receiver.start()  # for the fixture's stop


def test_it_disables_a_failing_webhook_once_and_tells_the_admins(
    settings, hook, receiver, run_on_commit
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 6
    receiver.fail_first = 100
    run_on_commit(webhooks.delivery_create_test, hook)  # 4 failed attempts
    hook.refresh_from_db()
    assert hook.enabled
    run_on_commit(webhooks.delivery_create_test, hook)  # 2 more, then it is off
    hook.refresh_from_db()
    assert not hook.enabled
    assert hook.disabled_reason == "disabled after 6 failed attempts in a row"
    assert len(receiver.requests) == 6
    [notice] = mail.outbox
    assert notice.to == ["alice@example.com"]  # acme's admin; bob is a member
    assert "receiver" in notice.subject
    last = WebhookDelivery.objects.order_by("id").last()
    assert (last.state, last.error) == (State.FAILED, "the webhook is disabled")
    webhook_enable(hook)
    receiver.fail_first = 0
    run_on_commit(webhooks.delivery_create_test, hook)
    assert WebhookDelivery.objects.order_by("id").last().state == State.DELIVERED


def test_it_sends_slack_incoming_webhook_payloads(
    settings, crash, make_rule, make_webhook, receiver
):
    settings.PUBLIC_URL = "https://dre.example.com"
    slack = make_webhook(receiver.url, kind=Webhook.Kind.SLACK)
    make_rule(T.ISSUE_CREATED, webhooks=[slack], email=False)
    issue = crash()
    [request] = receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "text": "New issue in acme/sensors: "
        f"<https://dre.example.com/acme/sensors/issues/{issue.pk}/|{issue.title}>"
    }


def test_it_skips_disabled_webhooks_when_a_rule_fires(crash, make_rule, hook, receiver):
    make_rule(T.ISSUE_CREATED, webhooks=[hook], email=False)
    Webhook.objects.filter(pk=hook.pk).update(enabled=False)
    crash()
    assert receiver.requests == []


def test_it_gives_up_on_a_receiver_that_answers_too_slowly(settings, hook, receiver, run_on_commit):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.delay = 1.0
    delivery = run_on_commit(webhooks.delivery_create_test, hook)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert delivery.error in ("TimeoutError: timed out", "cannot connect: timed out")


def test_it_requeues_a_delivery_whose_retry_message_was_lost(
    settings, hook, receiver, run_on_commit
):
    receiver.fail_first = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    delivery = webhooks._create(hook, None, {"type": "webhook.test", "rule": None, "data": {}})
    assert webhooks.delivery_attempt(delivery.pk).retry_in == 1  # and the message is lost
    later = timezone.now() + timedelta(seconds=settings.STUCK_AFTER_SECONDS + 5)
    assert webhooks.deliveries_requeue_stuck(now=timezone.now()) == 0  # not due long enough
    assert run_on_commit(webhooks.deliveries_requeue_stuck, now=later) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.DELIVERED, 2)
    assert webhooks.deliveries_requeue_stuck(now=later + timedelta(days=1)) == 0

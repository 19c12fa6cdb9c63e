"""Alerts with real parts: a crash grouped by a Celery worker fires a rule; the worker
retries the webhook with exponential backoff (Celery countdowns) until the receiver takes
it, and emails the subscriber through a real SMTP server."""

import itertools
import logging
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from dre import events
from dre.alerts.models import AlertRule, Webhook, WebhookDelivery
from dre.alerts.services import notification_setting_set, rule_save
from dre.alerts.webhooks import new_secret
from dre.fleet.services import device_seen
from dre.symbols.models import SymbolFile
from tests.dre.alerts.receiver import Mailbox, Receiver, free_port
from tests.dre.conftest import send_coredump, store_elf
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers(monkeypatch):
    """The receiver and mailbox, and the worker's settings pointing at them (set before
    `live_worker` starts, which copies the environment)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    receiver, mailbox = Receiver(fail_first=2).start(), Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{smtp.port}")
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "1")
    yield receiver, mailbox
    smtp.stop()
    receiver.stop()


def test_a_crash_reaches_a_flaky_webhook_and_a_mailbox_through_the_worker(
    servers, live_worker, project, alice
):
    receiver, mailbox = servers
    hook = Webhook.objects.create(project=project, name="ops", url=receiver.url, secret="s")
    receiver.secret = hook.secret = new_secret()
    hook.save()
    rule = AlertRule(project=project, name="new", events=[events.EventType.ISSUE_CREATED])
    rule_save(rule, webhooks=[hook])
    notification_setting_set(alice, project, email=True)
    store_elf(project)
    wait_for(lambda: SymbolFile.objects.filter(state=SymbolFile.State.READY).exists())

    send_coredump(project, device=device_seen(project, "unit-9"))

    delivered = wait_for(
        lambda: WebhookDelivery.objects.filter(state=WebhookDelivery.State.DELIVERED).first()
    )
    attempts = list(delivered.attempt_log.all())
    assert [a.status_code for a in attempts] == [503, 503, 200]
    gaps = [later.created - earlier.created for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= timedelta(seconds=1)
    assert gaps[1] >= timedelta(seconds=2)
    assert {r.headers["Dre-Delivery"] for r in receiver.requests} == {str(delivered.delivery_id)}
    assert all(r.signature_ok for r in receiver.requests)
    wait_for(lambda: mailbox.messages)
    assert mailbox.messages[0][0] == ["alice@example.com"]

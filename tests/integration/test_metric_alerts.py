"""Metric alerts with real parts: heartbeats posted to the chunk endpoint are evaluated
by a Celery worker on the real broker, open a device incident, and its event reaches a
real HTTP receiver, signed; the resolution follows."""

import pytest

from dre import events
from dre.alerts.models import AlertRule, Webhook, WebhookDelivery
from dre.alerts.services import rule_save
from dre.alerts.webhooks import new_secret
from dre.monitors.models import Incident, Monitor
from dre.monitors.services import monitor_save
from tests.builders import event_chunks
from tests.dre.monitors.conftest import heartbeat
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
T = events.EventType


def post(client, project_key, *heartbeats):
    for chunk in event_chunks(*heartbeats):
        response = client.post(
            "/api/v0/chunks/dev-1",
            chunk,
            content_type="application/octet-stream",
            headers={"Memfault-Project-Key": project_key},
        )
        assert response.status_code == 202


def test_a_hot_device_pages_a_webhook_once_through_the_worker(
    client, project, project_key, receiver, live_worker
):
    secret = new_secret()
    hook = Webhook.objects.create(project=project, name="ops", url=receiver.url, secret=secret)
    receiver.secret = hook.secret
    rule = AlertRule(project=project, name="metrics", email=False)
    rule.events = [T.DEVICE_ALERT_TRIGGERED, T.DEVICE_ALERT_RESOLVED]
    rule_save(rule, webhooks=[hook])
    monitor_save(
        Monitor(project=project, kind="device", name="hot", metric_key="battery_temp",
                operator=">", threshold=50, end_delay_seconds=3600)
    )  # fmt: skip

    post(client, project_key, heartbeat(1, battery_temp=70), heartbeat(2, battery_temp=40))
    post(client, project_key, heartbeat(3, battery_temp=75))  # flapping: still one incident
    wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").exists())
    post(client, project_key, heartbeat(4, battery_temp=40), heartbeat(5, battery_temp=41))

    wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").count() == 2)
    incident = Incident.objects.get()
    assert (incident.state, incident.device.serial) == ("resolved", "dev-1")
    assert [r.json["type"] for r in receiver.requests] == [
        T.DEVICE_ALERT_TRIGGERED,
        T.DEVICE_ALERT_RESOLVED,
    ]
    assert all(r.signature_ok for r in receiver.requests)

"""Alert rules, monitors, incidents and webhooks in the REST API, described by the
OpenAPI schema."""

import pytest
import yaml

from dre.accounts.services import api_token_create
from dre.alerts.models import AlertRule, WebhookDelivery
from dre.monitors.models import Monitor
from tests.conftest import bearer
from tests.dre.alerts.receiver import Receiver
from tests.dre.monitors.conftest import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(acme):
    def headers(user):
        return bearer(api_token_create(organization=acme, user=user)[1])

    return headers


@pytest.fixture
def url(project):
    return lambda path: f"/api/v1/projects/{project.pk}/{path}"


def test_it_creates_lists_and_deletes_an_alert_rule(client, url, as_user, bob, project):
    body = {"name": "halts", "events": ["rollout.halted"], "email": False}
    created = client.post(url("alert-rules/"), body, "application/json", headers=as_user(bob))
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]

    listed = client.get(url("alert-rules/"), headers=as_user(bob)).json()["results"]
    assert [(r["name"], r["events"]) for r in listed] == [("halts", ["rollout.halted"])]
    deleted = client.delete(url(f"alert-rules/{rule_id}/"), headers=as_user(bob))
    assert deleted.status_code == 204
    assert not AlertRule.objects.exists()


def test_it_explains_a_rule_it_cannot_save(client, url, as_user, bob, other_project):
    bad = {"name": "x", "events": ["issue.exploded"]}
    answer = client.post(url("alert-rules/"), bad, "application/json", headers=as_user(bob))
    assert answer.status_code == 400
    assert "events" in answer.json()
    foreign = {"name": "x", "events": ["issue.created"], "webhooks": [999]}
    answer = client.post(url("alert-rules/"), foreign, "application/json", headers=as_user(bob))
    assert answer.status_code == 400
    assert answer.json()["webhooks"] == "unknown webhooks in this project"


def test_it_lets_a_viewer_read_rules_but_not_write_them(client, url, as_user, victor):
    assert client.get(url("alert-rules/"), headers=as_user(victor)).status_code == 200
    body = {"name": "x", "events": ["issue.created"]}
    answer = client.post(url("alert-rules/"), body, "application/json", headers=as_user(victor))
    assert answer.status_code == 403


def test_it_creates_a_device_monitor_and_shows_its_incident_with_a_timeline(
    client,
    url,
    as_user,
    bob,
    send,
):
    body = {"name": "hot", "kind": "device", "metric_key": "battery_temp", "operator": ">",
            "threshold": 50}  # fmt: skip
    created = client.post(url("monitors/"), body, "application/json", headers=as_user(bob))
    assert created.status_code == 201, created.content
    assert created.json()["condition"] == "battery_temp > 50"
    send(heartbeat(1, battery_temp=70))

    (incident,) = client.get(url("incidents/?state=alerting"), headers=as_user(bob)).json()[
        "results"
    ]
    assert (incident["device_serial"], incident["value"]) == ("dev-1", 70)
    detail = client.get(url(f"incidents/{incident['id']}/"), headers=as_user(bob)).json()
    assert [entry["kind"] for entry in detail["timeline"]] == ["triggered"]
    assert client.get(url("incidents/?state=nope"), headers=as_user(bob)).status_code == 400


def test_it_refuses_a_monitor_it_cannot_evaluate(client, url, as_user, bob):
    body = {"name": "x", "kind": "fleet", "metric_key": "t", "operator": ">", "threshold": 1,
            "window_seconds": 5}  # fmt: skip
    answer = client.post(url("monitors/"), body, "application/json", headers=as_user(bob))
    assert answer.status_code == 400
    assert "at least 60 seconds" in answer.json()["detail"]
    assert not Monitor.objects.exists()


def test_it_keeps_webhooks_to_admins_and_sends_a_signed_test(
    client, url, as_user, alice, bob, run_on_commit
):
    receiver = Receiver().start()
    try:
        body = {"name": "ci", "url": receiver.url}
        assert (
            client.post(
                url("webhooks/"), body, "application/json", headers=as_user(bob)
            ).status_code
            == 403
        )
        created = client.post(url("webhooks/"), body, "application/json", headers=as_user(alice))
        assert created.status_code == 201
        webhook = created.json()
        receiver.secret = webhook["secret"]

        test = run_on_commit(
            client.post, url(f"webhooks/{webhook['id']}/test/"), headers=as_user(alice)
        )
        assert test.status_code == 202
        (request,) = receiver.requests
        assert request.signature_ok
        assert request.json["type"] == "webhook.test"
        log = client.get(url(f"webhooks/{webhook['id']}/deliveries/"), headers=as_user(alice))
        (delivery,) = log.json()["results"]
        assert delivery["state"] == WebhookDelivery.State.DELIVERED
        assert delivery["attempts_log"][0]["status_code"] == 200
    finally:
        receiver.stop()


def test_it_describes_the_alert_endpoints_in_the_openapi_schema(client, alice):
    client.force_login(alice)
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    paths = schema["paths"]
    for path in ("alert-rules/", "monitors/", "incidents/{id}/", "webhooks/{id}/deliveries/"):
        assert f"/api/v1/projects/{{project_id}}/{path}" in paths
    assert "timeline" in schema["components"]["schemas"]["IncidentDetailOut"]["properties"]

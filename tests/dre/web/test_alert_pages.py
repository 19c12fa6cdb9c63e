"""Alert pages: rules (members), webhooks and their deliveries (admins), each user's
notification settings."""

import pytest

from dre.alerts.models import AlertRule, NotificationSetting, Webhook, WebhookDelivery
from dre.alerts.webhooks import new_secret

pytestmark = pytest.mark.django_db
URL = "/acme/sensors/alerts/"


@pytest.fixture
def hook(project, receiver):
    webhook = Webhook.objects.create(
        project=project, name="ops", url=receiver.url, secret=new_secret()
    )
    receiver.secret = webhook.secret
    return webhook


def test_bob_saves_a_rule_that_fires_on_new_issues(client, bob, project, hook, crash, receiver):
    client.force_login(bob)
    response = client.post(
        URL + "rules/",
        {
            "name": "new crashes",
            "events": ["issue.created"],
            "min_devices_last_hour": 0,
            "webhooks": [hook.pk],
            "email": "on",
        },
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get(project=project)
    assert (rule.events, list(rule.webhooks.all())) == (["issue.created"], [hook])
    assert "new crashes" in client.get(URL).content.decode()
    crash()
    assert [r.json["type"] for r in receiver.requests] == ["issue.created"]


def test_a_rule_needs_its_events(client, bob, project):
    client.force_login(bob)
    page = client.post(URL + "rules/", {"name": "x", "min_devices_last_hour": 0}).content.decode()
    assert "This field is required." in page
    assert not AlertRule.objects.exists()


def test_victor_the_viewer_reads_rules_but_cannot_change_them(client, victor, project):
    client.force_login(victor)
    assert client.get(URL).status_code == 200
    response = client.post(URL + "rules/", {"name": "x", "events": ["issue.created"]})
    assert response.status_code == 403


def test_charlie_outside_acme_sees_nothing(client, charlie, project, hook):
    client.force_login(charlie)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}webhooks/{hook.pk}/").status_code == 404


def test_alice_adds_a_webhook_and_sends_a_test_that_the_receiver_verifies(
    client, alice, project, receiver, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    response = client.post(
        URL + "webhooks/", {"name": "ops", "url": receiver.url, "kind": "generic"}
    )
    hook = Webhook.objects.get(project=project)
    assert response.url == f"{URL}webhooks/{hook.pk}/"
    receiver.secret = hook.secret
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}webhooks/{hook.pk}/test/")
    [request] = receiver.requests
    assert request.signature_ok
    assert request.json["type"] == "webhook.test"
    page = client.get(f"{URL}webhooks/{hook.pk}/").content.decode()
    delivery = WebhookDelivery.objects.get()
    assert str(delivery.delivery_id) in page
    assert "#1 200" in page


def test_bob_cannot_see_webhook_secrets(client, bob, hook):
    client.force_login(bob)
    assert client.get(f"{URL}webhooks/{hook.pk}/").status_code == 403
    assert hook.secret not in client.get(URL).content.decode()


def test_a_disabled_webhook_says_why_and_can_be_enabled(client, alice, hook):
    Webhook.objects.filter(pk=hook.pk).update(
        enabled=False, disabled_reason="disabled after 15 failed attempts in a row"
    )
    client.force_login(alice)
    page = client.get(f"{URL}webhooks/{hook.pk}/").content.decode()
    assert "disabled after 15 failed attempts in a row" in page
    client.post(f"{URL}webhooks/{hook.pk}/enable/")
    hook.refresh_from_db()
    assert (hook.enabled, hook.consecutive_failures) == (True, 0)


def test_bob_chooses_which_projects_email_him(client, bob, project, other_project):
    client.force_login(bob)
    page = client.get("/notifications/").content.decode()
    assert "acme / sensors" in page
    assert "globex" not in page
    client.post("/notifications/", {"email": [str(project.pk), str(other_project.pk)]})
    assert list(NotificationSetting.objects.values_list("user__username", "project", "email")) == [
        ("bob", project.pk, True)
    ]
    client.post(URL + "subscription/", {})
    assert not NotificationSetting.objects.get(user=bob).email

"""Rollout alerts: halted, resumed, widened, as dre/releases publishes them, delivered to
webhooks and to the members who subscribed, filtered by cohort and software type."""

import json

import pytest

from dre import events
from dre.alerts.models import AlertEvent, Notification
from dre.fleet.models import Cohort

pytestmark = pytest.mark.django_db
T = events.EventType


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1


@pytest.fixture
def rollout(project, run_on_commit):
    """Publish a rollout event the way dre/releases' deployment services do: in their
    transaction, with the deployment, its release and cohort, and why."""
    beta = Cohort.objects.create(project=project, slug="beta", name="Beta")

    def publish(event_type, deployment_id=7, cohort=beta, reason="", **extra):
        data = {
            "deployment": {"id": deployment_id, "path": "/acme/sensors/releases/2.0.0/"},
            "release": {"version": "2.0.0"},
            "cohort": {"id": cohort.pk, "slug": cohort.slug},
            "cohort_ids": [cohort.pk],
            "software_type_ids": [],
            "reason": reason,
            "evidence": extra.pop("evidence", {}),
            "actor": extra.pop("actor", None),
            "project": {"organization": "acme", "slug": "sensors"},
            **extra,
        }
        key = f"{event_type}:{deployment_id}:{extra.get('seq', 1)}"
        event = events.Event(event_type, project.pk, key, data)
        run_on_commit(events.publish, event)

    publish.beta = beta
    return publish


def test_it_posts_a_halted_rollout_to_a_webhook_with_a_valid_signature(
    rollout, make_rule, hook, receiver
):
    make_rule(T.ROLLOUT_HALTED, webhooks=[hook], email=False)
    rollout(T.ROLLOUT_HALTED, reason="crash-free hours 91 % < 99 %", evidence={"crash_free": 0.91})

    (request,) = receiver.requests
    assert request.signature_ok
    body = request.json
    assert body["type"] == "rollout.halted"
    assert body["data"]["reason"] == "crash-free hours 91 % < 99 %"
    assert body["data"]["evidence"] == {"crash_free": 0.91}
    assert request.headers["Dre-Event"] == "rollout.halted"


def test_it_emails_subscribers_why_a_rollout_was_halted(rollout, make_rule, mailbox, subscribed):
    make_rule(T.ROLLOUT_HALTED)
    rollout(T.ROLLOUT_HALTED, reason="crash-free hours 91 % < 99 %")

    recipients = sorted(rcpt for rcpts, _ in mailbox.messages for rcpt in rcpts)
    assert recipients == ["alice@example.com", "victor@example.com"]
    message = mailbox.messages[0][1]
    subject = "[dre] Rollout halted in acme/sensors: release 2.0.0 to cohort beta"
    assert message["Subject"] == subject
    assert "Reason: crash-free hours 91 % < 99 %" in message.get_content()


def test_it_notifies_each_rollout_step_the_rule_listens_to(rollout, make_rule):
    rule = make_rule(T.ROLLOUT_HALTED, T.ROLLOUT_RESUMED, email=False)
    rollout(T.ROLLOUT_WIDENED, percent=50)
    rollout(T.ROLLOUT_HALTED)
    rollout(T.ROLLOUT_RESUMED, actor="alice")
    rollout(T.ROLLOUT_HALTED)  # the same key: the same event, published again

    fired = Notification.objects.filter(rule=rule).select_related("event")
    assert sorted(n.event.type for n in fired) == [T.ROLLOUT_HALTED, T.ROLLOUT_RESUMED]


def test_it_filters_rollouts_on_the_rules_cohorts(rollout, make_rule, project):
    other = Cohort.objects.create(project=project, slug="field", name="Field")
    rule = make_rule(T.ROLLOUT_WIDENED, cohorts=[other], email=False)
    rollout(T.ROLLOUT_WIDENED, cohort=rollout.beta)
    rollout(T.ROLLOUT_WIDENED, cohort=other, deployment_id=8)

    (notification,) = Notification.objects.filter(rule=rule).select_related("event")
    assert notification.event.data["cohort_ids"] == [other.pk]


def test_it_sends_slack_a_line_with_a_link_to_the_release(
    rollout, make_rule, make_webhook, receiver, settings
):
    settings.PUBLIC_URL = "https://dre.example.com"
    slack = make_webhook(receiver.url, kind="slack")
    make_rule(T.ROLLOUT_HALTED, webhooks=[slack], email=False)
    rollout(T.ROLLOUT_HALTED)

    text = json.loads(receiver.requests[0].body)["text"]
    assert text == (
        "Rollout halted in acme/sensors: "
        "<https://dre.example.com/acme/sensors/releases/2.0.0/|release 2.0.0 to cohort beta>"
    )
    assert AlertEvent.objects.get().evaluated is not None


def test_it_applies_the_device_count_filter_to_issues_only(rollout, make_rule):
    rule = make_rule(T.ROLLOUT_HALTED, min_devices_last_hour=5, email=False)
    rollout(T.ROLLOUT_HALTED)
    assert Notification.objects.filter(rule=rule).count() == 1

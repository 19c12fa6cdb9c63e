"""Nothing a rule decided to send is lost when a worker dies or a task message goes
missing: the sweeper finds evaluations, emails and deliveries that never finished."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dre import events
from dre.alerts import email, services
from dre.alerts.models import AlertEvent, EmailDelivery, Notification
from dre.alerts.tasks import sweep_stuck_deliveries

pytestmark = pytest.mark.django_db
T = events.EventType
State = EmailDelivery.State


@pytest.fixture
def later(settings):
    return timezone.now() + timedelta(seconds=settings.STUCK_AFTER_SECONDS + 5)


def publish_lost(project, key="rollout.halted:1"):
    """Publish, but drop what the transaction queued on commit: a worker that died."""
    data = {"deployment": {"id": 1, "path": ""}, "project": {"organization": "acme"}}
    events.publish(events.Event(T.ROLLOUT_HALTED, project.pk, key, data))


def test_it_evaluates_an_event_whose_task_was_lost(project, make_rule, run_on_commit, later):
    rule = make_rule(T.ROLLOUT_HALTED, email=False)
    publish_lost(project)
    assert AlertEvent.objects.get().evaluated is None

    assert services.events_requeue_stuck() == 0  # not stuck yet
    assert run_on_commit(services.events_requeue_stuck, now=later) == 1
    assert Notification.objects.filter(rule=rule).count() == 1
    assert AlertEvent.objects.get().evaluated is not None
    assert services.events_requeue_stuck(now=later + timedelta(days=1)) == 0


def test_it_sends_an_email_whose_task_was_lost(
    project, make_rule, mailbox, subscribed, run_on_commit, later
):
    make_rule(T.ROLLOUT_HALTED)
    publish_lost(project)
    services.event_evaluate(AlertEvent.objects.get().pk)  # its email tasks are lost
    assert EmailDelivery.objects.filter(state=State.PENDING).count() == 2

    assert run_on_commit(email.emails_requeue_stuck, now=later) == 2
    assert len(mailbox.messages) == 2
    assert set(EmailDelivery.objects.values_list("state", flat=True)) == {State.SENT}


def test_it_sends_again_an_email_whose_worker_died_while_sending(
    project, make_rule, mailbox, alice, run_on_commit, later
):
    services.notification_setting_set(alice, project, email=True)
    make_rule(T.ROLLOUT_HALTED)
    publish_lost(project)
    services.event_evaluate(AlertEvent.objects.get().pk)  # its email task is lost too
    EmailDelivery.objects.update(state=State.SENDING)  # claimed, then the worker died

    assert run_on_commit(email.emails_requeue_stuck, now=later) == 1
    assert [rcpts for rcpts, _ in mailbox.messages] == [["alice@example.com"]]
    assert run_on_commit(email.emails_requeue_stuck, now=later) == 0


def test_it_sweeps_everything_from_one_periodic_task(project, make_rule, run_on_commit):
    make_rule(T.ROLLOUT_HALTED, email=False)
    publish_lost(project)
    AlertEvent.objects.update(updated=timezone.now() - timedelta(days=1))
    assert run_on_commit(sweep_stuck_deliveries) == 1
    assert Notification.objects.count() == 1

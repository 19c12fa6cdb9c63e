"""The domain-event seam: publishers and subscribers meet only in dre.events."""

import pytest
from django.db import transaction

from dre import events
from dre.alerts.models import AlertEvent, AlertRule, Notification
from dre.alerts.services import rule_save

T = events.EventType


def test_it_refuses_an_event_type_nobody_defined():
    with pytest.raises(ValueError, match=r"unknown event type 'issue\.exploded'"):
        events.Event("issue.exploded", 1, "k")


@pytest.mark.django_db
def test_it_calls_every_subscriber_with_the_event():
    heard = []
    events.subscribe(lambda sender, event, **kw: heard.append(event), uid="test-listener")
    try:
        event = events.Event(T.ROLLOUT_HALTED, 7, "rollout:1:halted")
        events.publish(event)
    finally:
        events.domain_event.disconnect(sender=events.Event, dispatch_uid="test-listener")
    assert event in heard


@pytest.mark.django_db
def test_a_rolled_back_change_announces_nothing(project, django_capture_on_commit_callbacks):
    rule_save(AlertRule(project=project, name="r", events=[T.ROLLOUT_HALTED]))

    def failing_change():
        with transaction.atomic():
            events.publish(events.Event(T.ROLLOUT_HALTED, project.pk, "rollout:1:halted"))
            raise RuntimeError("the change failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as queued,
        pytest.raises(RuntimeError),
    ):
        failing_change()
    assert queued == []
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_a_source_built_later_only_has_to_publish(project, run_on_commit):
    """Releases and fleet health will publish their types; rules already accept them."""
    rule = rule_save(AlertRule(project=project, name="r", events=[T.ROLLOUT_HALTED], email=False))
    event = events.Event(T.ROLLOUT_HALTED, project.pk, "rollout:1:halted", {"rollout": 1})
    run_on_commit(events.publish, event)
    run_on_commit(events.publish, event)  # the same key: the same event
    assert Notification.objects.get().rule == rule

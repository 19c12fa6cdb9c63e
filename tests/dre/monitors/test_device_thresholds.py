"""Device thresholds: every heartbeat of every device against the threshold, one
incident per device, start and end delays in device time, late and out-of-order
heartbeats placed where they belong."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dre.alerts.models import AlertEvent, Notification
from dre.events import EventType
from dre.fleet.models import Cohort
from dre.monitors import services
from dre.monitors.models import Incident, Observation
from tests.dre.monitors.conftest import at, heartbeat

pytestmark = pytest.mark.django_db
T = EventType


def incidents(**filters):
    return list(Incident.objects.filter(**filters).order_by("triggered"))


def announced():
    return sorted(AlertEvent.objects.values_list("type", flat=True))


def test_it_opens_an_incident_when_a_heartbeat_crosses_the_threshold(
    send, make_monitor, metric_rule
):
    make_monitor()
    send(heartbeat(1, battery_temp=40), heartbeat(2, battery_temp=61))

    (incident,) = incidents()
    assert incident.state == Incident.State.ALERTING
    assert incident.device.serial == "dev-1"
    assert (incident.started, incident.triggered, incident.value) == (at(2), at(2), 61)
    assert [e.kind for e in incident.timeline.all()] == ["triggered"]
    event = AlertEvent.objects.get()
    assert event.type == T.DEVICE_ALERT_TRIGGERED
    assert event.data["device"]["serial"] == "dev-1"
    assert event.data["monitor"]["condition"] == "battery_temp > 50"
    assert Notification.objects.filter(rule=metric_rule).count() == 1


def test_it_keeps_one_incident_per_device(send, make_monitor, metric_rule):
    make_monitor()
    send(heartbeat(1, battery_temp=60), serial="dev-1")
    send(heartbeat(1, battery_temp=70), serial="dev-2")
    send(heartbeat(2, battery_temp=80), serial="dev-1")

    assert sorted(i.device.serial for i in incidents()) == ["dev-1", "dev-2"]
    assert announced() == [T.DEVICE_ALERT_TRIGGERED] * 2


def test_it_waits_for_the_start_delay_and_dates_the_incident_from_the_first_breach(
    send, make_monitor, metric_rule
):
    make_monitor(start_delay_seconds=2 * 3600)
    send(heartbeat(1, battery_temp=60), heartbeat(2, battery_temp=60))
    assert incidents() == []

    send(heartbeat(3, battery_temp=60))
    (incident,) = incidents()
    assert (incident.started, incident.triggered) == (at(1), at(3))


def test_it_pages_a_flapping_device_once(send, make_monitor, metric_rule):
    make_monitor(end_delay_seconds=2 * 3600)
    for hour in range(1, 9):
        send(heartbeat(hour, battery_temp=60 if hour % 2 else 40))

    (incident,) = incidents()
    assert incident.state == Incident.State.ALERTING
    assert announced() == [T.DEVICE_ALERT_TRIGGERED]


def test_it_resolves_after_the_end_delay_and_says_so(send, make_monitor, metric_rule):
    make_monitor(end_delay_seconds=3600)
    send(heartbeat(1, battery_temp=60), heartbeat(2, battery_temp=40))
    assert incidents()[0].state == Incident.State.ALERTING

    send(heartbeat(3, battery_temp=41))
    (incident,) = incidents()
    assert (incident.state, incident.resolved, incident.last_value) == ("resolved", at(3), 41)
    assert [e.kind for e in incident.timeline.all()] == ["triggered", "resolved"]
    assert announced() == [T.DEVICE_ALERT_RESOLVED, T.DEVICE_ALERT_TRIGGERED]


def test_it_places_out_of_order_heartbeats_in_device_time(send, make_monitor, metric_rule):
    make_monitor(start_delay_seconds=2 * 3600)
    send(heartbeat(3, battery_temp=60))
    send(heartbeat(1, battery_temp=60))
    assert incidents() == []  # hours 1 and 3, but is hour 2 a breach?

    send(heartbeat(2, battery_temp=60))
    (incident,) = incidents()
    assert (incident.started, incident.triggered) == (at(1), at(3))


def test_it_opens_and_closes_an_incident_a_late_heartbeat_reveals(send, make_monitor, metric_rule):
    make_monitor(start_delay_seconds=3600)
    send(heartbeat(1, battery_temp=60), heartbeat(3, battery_temp=40))
    assert incidents() == []

    send(heartbeat(2, battery_temp=60))  # the missing hour, uploaded late
    (incident,) = incidents()
    assert (incident.started, incident.triggered, incident.resolved) == (at(1), at(2), at(3))
    assert announced() == [T.DEVICE_ALERT_RESOLVED, T.DEVICE_ALERT_TRIGGERED]


def test_it_cannot_rewrite_a_past_that_was_already_announced(send, make_monitor, metric_rule):
    make_monitor()
    send(heartbeat(5, battery_temp=60), heartbeat(6, battery_temp=40))
    assert incidents()[0].resolved == at(6)

    send(heartbeat(4, battery_temp=90))  # older than the incident it would belong to
    assert len(incidents()) == 1
    assert Observation.objects.filter(evaluated=False).count() == 0


def test_it_ignores_heartbeats_older_than_the_lateness_window(
    send, make_monitor, metric_rule, settings
):
    settings.MONITOR_LATENESS_SECONDS = 3 * 3600
    make_monitor(start_delay_seconds=3600)
    send(heartbeat(10, battery_temp=40))
    send(heartbeat(1, battery_temp=60), heartbeat(2, battery_temp=60))
    assert incidents() == []


def test_it_counts_a_re_sent_heartbeat_once(send, make_monitor, metric_rule):
    make_monitor(start_delay_seconds=3600)
    send(heartbeat(1, battery_temp=60))
    send(heartbeat(1, battery_temp=60))
    assert Observation.objects.count() == 1
    assert incidents() == []


def test_it_watches_only_the_monitors_cohort(send, make_monitor, metric_rule, project):
    beta = Cohort.objects.create(project=project, slug="beta", name="Beta")
    make_monitor(cohort=beta)
    send(heartbeat(1, battery_temp=60))
    assert incidents() == []


def test_it_sees_a_new_monitor_at_the_next_heartbeat(send, make_monitor, metric_rule):
    send(heartbeat(1, battery_temp=60))  # caches "no device monitors"
    make_monitor()
    send(heartbeat(2, battery_temp=60))
    assert len(incidents()) == 1


def test_it_evaluates_observations_whose_task_was_lost(
    make_monitor, metric_rule, project, run_on_commit
):
    from dre.fleet.services import device_seen

    monitor = make_monitor()
    device = device_seen(project, "dev-9")
    interval = {"device_id": device.pk, "ended": at(1).isoformat(), "values": {"battery_temp": 70}}
    services.heartbeats_observe(project.pk, [interval])  # its on-commit task never runs
    assert incidents() == []

    later = timezone.now() + timedelta(hours=1)
    assert run_on_commit(services.observations_requeue_stuck, now=later) == 1
    assert incidents(monitor=monitor)[0].device == device
    assert run_on_commit(services.observations_requeue_stuck, now=later) == 0


def test_it_refuses_delays_beyond_the_lateness_window(make_monitor, settings):
    settings.MONITOR_LATENESS_SECONDS = 3600
    with pytest.raises(services.MonitorError, match="at most 3600"):
        make_monitor(start_delay_seconds=7200)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_heartbeat_when_a_remembered_monitor_was_deleted(
    send, make_monitor, metric_rule, project
):
    from django.core.cache import cache

    from dre.health.models import HeartbeatInterval

    monitor = make_monitor()
    remembered = services.device_monitors(project.pk)
    monitor.delete()
    # The race: a request read the list just before the delete was committed.
    cache.set(services._cache_key(project.pk), remembered)

    send(heartbeat(2, battery_temp=70))  # commits: no foreign key to trip on

    assert HeartbeatInterval.objects.count() == 1
    assert incidents() == []
    assert not Observation.objects.exists()  # dropped by its evaluation

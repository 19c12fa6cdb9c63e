"""Fleet thresholds: an aggregate of a metric over a cohort and software version during
the last window, evaluated on a schedule; one incident while it holds."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from dre.alerts.models import AlertEvent, Notification
from dre.events import EventType
from dre.monitors import services
from dre.monitors.models import Incident, Monitor
from tests.dre.monitors.conftest import at, heartbeat

pytestmark = pytest.mark.django_db
FLEET = Monitor.Kind.FLEET
T = EventType


@pytest.fixture
def fleet_monitor(make_monitor):
    return make_monitor(kind=FLEET, aggregate="avg", window_seconds=2 * 3600, min_devices=2)


def test_it_opens_an_incident_when_the_fleet_average_crosses(
    send, fleet_monitor, metric_rule, run_on_commit
):
    send(heartbeat(1, battery_temp=40), serial="dev-1")
    send(heartbeat(1, battery_temp=70), serial="dev-2")

    assert run_on_commit(services.fleet_evaluate, fleet_monitor.pk, now=at(1.5)) == "triggered"
    incident = Incident.objects.get()
    assert (incident.device, incident.value, incident.triggered) == (None, 55, at(1.5))
    event = AlertEvent.objects.get()
    assert event.type == T.FLEET_ALERT_TRIGGERED
    assert event.data["monitor"]["condition"] == "avg(battery_temp) over 120 min > 50"
    assert Notification.objects.count() == 1


def test_it_follows_the_incident_until_the_average_is_back(send, fleet_monitor, metric_rule):
    send(heartbeat(1, battery_temp=60), heartbeat(2, battery_temp=40), serial="dev-1")
    send(heartbeat(1, battery_temp=70), heartbeat(2, battery_temp=55), serial="dev-2")
    send(heartbeat(4, battery_temp=40), serial="dev-1")
    send(heartbeat(4, battery_temp=40), serial="dev-2")

    steps = [services.fleet_evaluate(fleet_monitor.pk, now=at(h)) for h in (1.5, 2.5, 4.5)]
    assert steps == ["triggered", "alerting", "resolved"]
    incident = Incident.objects.get()
    assert [(e.kind, e.value) for e in incident.timeline.all()] == [
        ("triggered", 65),
        ("value", 56.25),
        ("resolved", 40),
    ]
    types = sorted(AlertEvent.objects.values_list("type", flat=True))
    assert types == [T.FLEET_ALERT_RESOLVED, T.FLEET_ALERT_TRIGGERED]


def test_it_needs_enough_reporting_devices(send, fleet_monitor):
    send(heartbeat(1, battery_temp=90), serial="dev-1")
    assert services.fleet_evaluate(fleet_monitor.pk, now=at(1.5)) == "no data"
    fleet_monitor.refresh_from_db()
    assert fleet_monitor.last_error == "1 devices reported, 2 needed"


def test_it_aggregates_only_the_chosen_software_version(send, make_monitor, project):
    from dre.fleet.models import SoftwareVersion

    send(heartbeat(1, battery_temp=90), serial="dev-1")
    version = SoftwareVersion.objects.get(version="1.0.0")
    other = SoftwareVersion.objects.create(software_type=version.software_type, version="2.0.0")
    on_other = make_monitor(kind=FLEET, aggregate="max", software_version=other)
    on_this = make_monitor(kind=FLEET, aggregate="max", software_version=version)

    assert services.fleet_evaluate(on_other.pk, now=at(1.5)) == "no data"
    assert services.fleet_evaluate(on_this.pk, now=at(1.5)) == "triggered"


def test_it_dispatches_a_due_monitor_once(fleet_monitor, run_on_commit):
    later = fleet_monitor.next_evaluation + timedelta(seconds=1)
    assert run_on_commit(services.fleet_dispatch_due, now=later) == 1
    assert run_on_commit(services.fleet_dispatch_due, now=later) == 0
    fleet_monitor.refresh_from_db()
    assert fleet_monitor.next_evaluation == later + timedelta(seconds=300)
    assert fleet_monitor.last_evaluated is not None  # the eager task ran


def in_threads(count, target):
    start, results = threading.Barrier(count), []

    def worker():
        try:
            start.wait()
            results.append(target())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_it_notifies_once_when_two_workers_evaluate_a_fleet_monitor_at_once(
    send, fleet_monitor, metric_rule
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    send(heartbeat(1, battery_temp=70), serial="dev-1")
    send(heartbeat(1, battery_temp=70), serial="dev-2")

    results = in_threads(4, lambda: services.fleet_evaluate(fleet_monitor.pk, now=at(1.5)))

    assert sorted(results) == ["alerting"] * 3 + ["triggered"]
    assert Incident.objects.count() == 1
    assert AlertEvent.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_opens_one_incident_when_two_workers_evaluate_one_device_at_once(
    send, make_monitor, metric_rule, project
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    from dre.monitors.models import Observation

    monitor = make_monitor()
    send(heartbeat(1, battery_temp=70))
    Incident.objects.all().delete()
    AlertEvent.objects.all().delete()
    Observation.objects.update(evaluated=False)
    device_id = Observation.objects.get().device_id

    results = in_threads(4, lambda: len(services.device_evaluate(monitor.pk, device_id)))

    assert sorted(results) == [0, 0, 0, 1]
    assert Incident.objects.count() == 1
    assert AlertEvent.objects.count() == 1
    assert Notification.objects.count() == 1

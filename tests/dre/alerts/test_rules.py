"""Issue events reach alert rules through dre.events; rules filter and notify once."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from dre import events
from dre.alerts.models import AlertEvent, Notification
from dre.alerts.services import AlertError, event_evaluate
from dre.crashes.announce import occurrence_announce
from dre.crashes.workflow import issue_comment, issue_mute, issue_reopen, issue_resolve
from dre.fleet.models import Cohort, SoftwareType

pytestmark = pytest.mark.django_db
T = events.EventType


def fired(rule):
    return list(
        Notification.objects.filter(rule=rule).order_by("id").values_list("event__type", flat=True)
    )


def test_it_notifies_a_rule_when_an_issue_is_created(crash, make_rule):
    rule = make_rule(T.ISSUE_CREATED)
    issue = crash()
    assert fired(rule) == [T.ISSUE_CREATED]
    data = Notification.objects.get(rule=rule).event.data
    assert data["issue"]["id"] == issue.pk
    assert data["issue"]["trace_count"] == 1  # announced once the trace was counted
    assert data["devices_last_hour"] == 1


def test_it_follows_an_issue_through_resolve_regress_reopen_and_comment(
    crash, make_rule, alice, run_on_commit
):
    rule = make_rule(*T.ISSUE_TYPES[:5])
    issue = crash()
    run_on_commit(issue_resolve, issue, actor=alice)
    crash()  # any trace after resolving "now" regresses it
    issue.refresh_from_db()
    run_on_commit(issue_resolve, issue, actor=alice)
    run_on_commit(issue_reopen, issue, actor=alice)
    run_on_commit(issue_comment, issue, author=alice, text="looking into it")
    assert fired(rule) == [
        T.ISSUE_CREATED,
        T.ISSUE_RESOLVED,
        T.ISSUE_REGRESSED,
        T.ISSUE_RESOLVED,
        T.ISSUE_REOPENED,
        T.ISSUE_COMMENTED,
    ]
    comment = Notification.objects.filter(rule=rule).last().event.data
    assert (comment["comment"], comment["actor"]) == ("looking into it", "alice")


def test_it_ignores_events_no_rule_listens_to(crash, make_rule):
    make_rule(T.ISSUE_RESOLVED)
    crash()
    assert not AlertEvent.objects.exists()


def test_it_fires_a_device_threshold_rule_once_per_issue_and_hour(crash, make_rule):
    two = make_rule(T.ISSUE_OCCURRED, min_devices_last_hour=2, name="two devices")
    one = make_rule(T.ISSUE_OCCURRED, min_devices_last_hour=1, name="one device")
    crash(serial="unit-1")
    crash(serial="unit-1")
    assert (fired(one), fired(two)) == ([T.ISSUE_OCCURRED], [])
    crash(serial="unit-2")
    crash(serial="unit-3")
    assert (fired(one), fired(two)) == ([T.ISSUE_OCCURRED], [T.ISSUE_OCCURRED])
    assert AlertEvent.objects.get().data["devices_last_hour"] == 3


def test_it_says_nothing_about_traces_of_a_muted_issue(crash, make_rule):
    rule = make_rule(T.ISSUE_OCCURRED)
    issue_mute(crash())
    Notification.objects.all().delete()
    AlertEvent.objects.all().delete()
    crash()
    assert fired(rule) == []


def test_it_filters_on_software_types_and_cohorts(crash, make_rule, project, run_on_commit):
    other_type = SoftwareType.objects.create(project=project, name="bootloader")
    other_cohort = Cohort.objects.create(project=project, slug="beta", name="Beta")
    wrong_type = make_rule(T.ISSUE_CREATED, software_types=[other_type], name="boot")
    wrong_cohort = make_rule(T.ISSUE_CREATED, cohorts=[other_cohort], name="beta")
    issue = crash()
    main = SoftwareType.objects.exclude(pk=other_type.pk).get(project=project)
    default = Cohort.objects.get(project=project, slug="default")
    right = make_rule(T.ISSUE_RESOLVED, software_types=[main], cohorts=[default], name="main")
    run_on_commit(issue_resolve, issue)
    assert (fired(wrong_type), fired(wrong_cohort), fired(right)) == ([], [], [T.ISSUE_RESOLVED])


def test_it_refuses_rules_without_events_or_with_another_projects_filters(make_rule, other_project):
    with pytest.raises(AlertError, match="choose the events"):
        make_rule()
    with pytest.raises(AlertError, match="unknown"):
        make_rule("issue.exploded")
    foreign = Cohort.objects.create(project=other_project, slug="x", name="X")
    with pytest.raises(AlertError, match="another project"):
        make_rule(T.ISSUE_CREATED, cohorts=[foreign])


def test_it_notifies_once_when_an_event_is_evaluated_again(crash, make_rule):
    rule = make_rule(T.ISSUE_CREATED)
    crash()
    assert event_evaluate(AlertEvent.objects.get().pk) == []
    assert len(fired(rule)) == 1


@pytest.mark.django_db(transaction=True)
def test_it_notifies_once_when_two_workers_evaluate_the_same_event_at_once(crash, make_rule):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    rule = make_rule(T.ISSUE_CREATED)
    crash()
    event = AlertEvent.objects.get()
    Notification.objects.all().delete()
    start, claimed = threading.Barrier(4), []

    def worker():
        try:
            start.wait()
            claimed.extend(event_evaluate(event.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 1
    assert len(fired(rule)) == 1


def test_it_costs_a_trace_few_queries_when_no_rule_listens(crash, make_rule):
    issue = crash()
    with CaptureQueriesContext(connection) as queries:
        occurrence_announce(issue)
    # The issue snapshot (4) and the rules lookup (1); nothing is written.
    assert len(queries) == 5
    assert not AlertEvent.objects.exists()

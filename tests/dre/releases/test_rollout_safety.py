"""Rollout safety against fleet health's own numbers: a synthetic fleet (dre.health.
synthetic) reports heartbeats, health rolls them up, and the beat task halts, waits or
widens the staged rollout through dre.releases.services, telling the project."""

import threading

import pytest
from django.db import connection

from dre import events
from dre.alerts.text import describe_event
from dre.fleet.services import cohort_get_default
from dre.releases import rollouts, tasks
from dre.releases.models import Deployment, DeploymentLog
from dre.releases.services import (
    ReleaseConflict,
    ReleaseRejected,
    deployment_activate,
    deployment_resume,
    deployment_widen,
)

pytestmark = pytest.mark.django_db


def test_the_beat_task_halts_a_release_that_reboots_five_times_as_often(rollout, heard):
    deployment = rollout(old_rate=0.01, new_rate=0.05)

    assert tasks.evaluate_rollouts() == {"halt": 1, "widen": 0, "wait": 0, "skipped": 0}

    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.HALTED
    halt = deployment.log.get(action=DeploymentLog.Action.HALTED)
    assert halt.actor == "rollout rule"
    assert (halt.evidence["new_version"], halt.evidence["old_version"]) == ("1.1.0", "1.0.0")
    assert halt.evidence["new_hours"] >= 500
    assert halt.evidence["new_devices"] >= 20
    assert halt.evidence["rate_ratio"]["low"] > 1.25
    assert "unexpected reboots per hour are" in halt.reason
    [event] = [e for e in heard if e.type == events.EventType.ROLLOUT_HALTED]
    assert event.key == f"deployment-log:{halt.pk}"
    assert event.data["evidence"] == halt.evidence
    assert event.data["cohort"]["slug"] == "default"
    # What alerts makes of it: the release, the cohort and a link to the evidence.
    text = describe_event(events.EventType.ROLLOUT_HALTED, event.data)
    assert "release 1.1.0 to cohort default" in text
    assert event.data["deployment"]["path"].endswith(f"/releases/{deployment.release_id}/")


def test_it_waits_and_says_why_for_a_release_as_good_as_the_previous_one(rollout, heard):
    deployment = rollout(old_rate=0.01, new_rate=0.01)

    assert tasks.evaluate_rollouts()["wait"] == 1

    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.ACTIVE
    decision, evidence = rollouts.rollout_decision(deployment)
    assert decision.action == "wait"
    assert "not worse so far" in decision.reason
    assert len(evidence.strata()) >= 2
    assert heard == []


def test_it_widens_a_release_shown_as_good_when_the_cohort_allows(rollout, heard):
    deployment = rollout(old_rate=0.03, new_rate=0.005, auto_widen=True, widen_after_hours=24)

    assert tasks.evaluate_rollouts()["widen"] == 1

    deployment.refresh_from_db()
    assert deployment.rollout_percent == 100
    assert deployment.type == Deployment.Type.NORMAL
    widened = deployment.log.get(action=DeploymentLog.Action.WIDENED)
    assert (widened.from_percent, widened.to_percent, widened.actor) == (50, 100, "rollout rule")
    assert [e.type for e in heard] == [events.EventType.ROLLOUT_WIDENED]


def test_a_halt_is_not_evaluated_again_and_an_override_makes_the_rule_stand_aside(
    rollout, alice, heard
):
    deployment = rollout(old_rate=0.01, new_rate=0.05)
    tasks.evaluate_rollouts()
    deployment.refresh_from_db()

    assert tasks.evaluate_rollouts() == {"halt": 0, "widen": 0, "wait": 0, "skipped": 0}
    with pytest.raises(ReleaseRejected):
        deployment_resume(deployment, actor=alice, override=True)
    deployment_resume(deployment, actor=alice, override=True, reason="sensor batch, not the fw")

    assert tasks.evaluate_rollouts()["halt"] == 0
    deployment.refresh_from_db()
    assert (deployment.status, deployment.rule_overridden) == ("active", True)
    decision, _ = rollouts.rollout_decision(deployment)
    assert decision.reason.startswith("a person overrode it; it would ")
    assert [e.type for e in heard][-1] == events.EventType.ROLLOUT_RESUMED


def test_resuming_a_halt_restarts_the_evidence_from_the_resume(rollout, alice):
    deployment = rollout(old_rate=0.01, new_rate=0.05)
    tasks.evaluate_rollouts()
    deployment.refresh_from_db()

    deployment_resume(deployment, actor=alice, reason="fix is in 1.1.1, let it run")

    deployment.refresh_from_db()
    assert deployment.watched_since is not None
    _, evidence = rollouts.rollout_decision(deployment)
    assert evidence.since == deployment.watched_since.date()


def test_a_cohort_with_the_rule_off_only_shows_what_it_would_do(rollout):
    deployment = rollout(old_rate=0.01, new_rate=0.05, safety_enabled=False)

    tasks.evaluate_rollouts()

    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.ACTIVE
    decision, _ = rollouts.rollout_decision(deployment)
    assert decision.reason.startswith("the rule is off for this cohort; it would halt")


def test_a_stale_copy_cannot_widen_the_same_step_twice(project, make_release):
    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project), percent=5)
    stale = Deployment.objects.get(pk=deployment.pk)

    deployment_widen(deployment, 20, actor="rollout rule")
    with pytest.raises(ReleaseConflict):
        deployment_widen(stale, 20, actor="rollout rule")

    assert deployment.log.filter(action="widened").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_evaluating_at_once_halt_the_rollout_once(rollout):
    deployment = rollout(old_rate=0.01, new_rate=0.05)
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(rollouts.rollout_evaluate(deployment.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert deployment.log.filter(action=DeploymentLog.Action.HALTED).count() == 1
    assert sorted(r.action if r else "skipped" for r in results) in (
        ["halt", "skipped"],
        ["halt", "halt"],  # the second decided before the first committed; its UPDATE lost
    )


def test_celery_beat_evaluates_the_rollouts_on_a_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-rollouts"]

    assert entry["task"] == tasks.evaluate_rollouts.name
    assert entry["schedule"] == 300
    assert tasks.evaluate_rollouts.queue == "maintenance"

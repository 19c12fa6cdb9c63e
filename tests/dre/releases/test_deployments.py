"""Deployments: activation per cohort, staged rollouts, and a log of who changed them."""

import pytest

from dre.fleet.services import cohort_get_default, cohort_get_or_create, device_seen
from dre.releases.models import Deployment, DeploymentLog
from dre.releases.services import (
    ReleaseConflict,
    ReleaseRejected,
    deployment_activate,
    deployment_halt,
    deployment_pause,
    deployment_pull,
    deployment_resume,
    deployment_widen,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def default(project):
    return cohort_get_default(project)


def test_a_full_activation_is_normal_and_logged_with_who(make_release, default, alice):
    deployment = deployment_activate(make_release("2.0.0"), default, actor=alice)

    assert (deployment.type, deployment.rollout_percent) == ("normal", 100)
    entry = deployment.log.get()
    assert (entry.action, entry.user, entry.actor, entry.to_percent) == (
        "activated",
        alice,
        "alice",
        100,
    )


def test_a_partial_activation_is_a_staged_rollout(make_release, default, alice):
    deployment = deployment_activate(make_release("2.0.0"), default, percent=5, actor=alice)

    assert deployment.type == "staged_rollout"


def test_pausing_resuming_widening_and_pulling_are_each_logged(make_release, default, alice, bob):
    deployment = deployment_activate(make_release("2.0.0"), default, percent=5, actor=alice)

    deployment_pause(deployment, actor=bob, reason="support calls")
    deployment_resume(deployment, actor=alice)
    deployment_widen(deployment, 20, actor=alice)
    deployment_pull(deployment, actor=bob, reason="bad radio")

    log = [
        (e.action, e.actor, e.from_percent, e.to_percent, e.reason) for e in deployment.log.all()
    ]
    assert log == [
        ("activated", "alice", None, 5, ""),
        ("paused", "bob", None, None, "support calls"),
        ("resumed", "alice", None, None, ""),
        ("widened", "alice", 5, 20, ""),
        ("pulled", "bob", None, None, "bad radio"),
    ]
    assert deployment.status == Deployment.Status.PULLED


def test_widening_to_100_makes_the_rollout_normal(make_release, default):
    deployment = deployment_activate(make_release("2.0.0"), default, percent=50)

    deployment_widen(deployment, 100)

    assert (deployment.type, deployment.rollout_percent) == ("normal", 100)


def test_it_refuses_to_narrow_a_rollout(make_release, default):
    deployment = deployment_activate(make_release("2.0.0"), default, percent=20)

    with pytest.raises(ReleaseRejected, match="only widens"):
        deployment_widen(deployment, 5)


def test_it_refuses_a_percentage_outside_1_to_100(make_release, default):
    with pytest.raises(ReleaseRejected, match="from 1 to 100"):
        deployment_activate(make_release("2.0.0"), default, percent=0)


def test_a_pulled_deployment_cannot_be_resumed(make_release, default):
    deployment = deployment_activate(make_release("2.0.0"), default)
    deployment_pull(deployment)

    with pytest.raises(ReleaseConflict, match="pulled cannot be resumed"):
        deployment_resume(deployment)


def test_activating_again_after_a_pull_starts_a_new_deployment(make_release, default):
    release = make_release("2.0.0")
    first = deployment_activate(release, default, percent=5)
    deployment_pull(first)

    second = deployment_activate(release, default, percent=5)

    assert second.pk != first.pk
    assert second.salt != first.salt


def test_a_cohort_of_another_project_is_refused(make_release, other_project):
    with pytest.raises(ReleaseRejected, match="another project"):
        deployment_activate(make_release("2.0.0"), cohort_get_default(other_project))


def test_the_rollout_rule_halts_with_its_evidence_and_a_person_resumes_with_a_reason(
    make_release, default, alice
):
    deployment = deployment_activate(make_release("2.0.0"), default, percent=5)

    deployment_halt(deployment, reason="crash-free hours 97.1 % < 99.2 %", evidence={"n": 40})
    with pytest.raises(ReleaseRejected, match="needs a reason"):
        deployment_resume(deployment, actor=alice)
    deployment_resume(deployment, actor=alice, reason="crashes were a bad sensor batch")

    halt, resume = deployment.log.exclude(action=DeploymentLog.Action.ACTIVATED)
    assert (halt.actor, halt.evidence) == ("rollout rule", {"n": 40})
    assert (resume.actor, resume.reason) == ("alice", "crashes were a bad sensor batch")
    assert deployment.status == Deployment.Status.ACTIVE


def test_a_device_moved_to_another_cohort_follows_that_cohorts_deployments(project, make_release):
    from dre.fleet.services import devices_move_to_cohort

    beta = cohort_get_or_create(project, "beta")
    device_seen(project, "dev-1")

    assert devices_move_to_cohort(project, ["dev-1"], beta) == 1
    assert device_seen(project, "dev-1").cohort == beta

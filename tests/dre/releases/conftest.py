"""Releases for the tests: payloads stored as blobs, as the upload flows store them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dre import blobs, events
from dre.fleet.services import cohort_get_default
from dre.health import rollups
from dre.health.synthetic import FleetShape, synthetic_fleet
from dre.releases.models import Deployment, DeploymentLog
from dre.releases.services import (
    artifact_add,
    cohort_policy_set,
    deployment_activate,
    release_get_or_create,
)
from dre.releases.update_checks import update_checks_flush


@pytest.fixture(autouse=True)
def _update_checks_written():
    """What a test queued is written before its tables are emptied, not raced by the
    writer thread during that."""
    yield
    update_checks_flush()


def store_payload(project, data: bytes) -> blobs.StoredBlob:
    return blobs.blob_save_bytes(blobs.blob_name("ota", project.pk, ".bin"), data)


@pytest.fixture
def make_release(project):
    """A release of software type `main` with a payload for hardware `evt`."""

    def make(version, *, delta_from=None, hardware="evt", payload=None, **fields):
        release = release_get_or_create(project, "main", version, delta_from=delta_from, **fields)
        data = payload if payload is not None else f"firmware {version}".encode()
        artifact_add(release, hardware, store_payload(project, data), filename=f"{version}.bin")
        return release

    return make


@pytest.fixture
def heard():
    """The domain events published while the test runs."""
    got = []
    events.subscribe(lambda sender, event, **kw: got.append(event), uid="rollout-test")
    yield got
    events.domain_event.disconnect(sender=events.Event, dispatch_uid="rollout-test")


@pytest.fixture
def rollout(project, make_release):
    """A fleet whose `default` cohort runs 1.0.0 on half its devices and 1.1.0 on the
    other half for two days, and a staged rollout of 1.1.0 there since three days ago."""

    def make(old_rate: float, new_rate: float, *, seed: int = 9, **rule) -> Deployment:
        shape = FleetShape(devices=150, intervals=48, metrics=5, seed=seed,
                           releases=(("1.0.0", old_rate), ("1.1.0", new_rate)))  # fmt: skip
        synthetic_fleet(project, shape)
        rollups.rollup_dirty_days()
        default = cohort_get_default(project)
        cohort_policy_set(default, min_hours=500, min_devices=20, **rule)
        deployment = deployment_activate(make_release("1.1.0", hardware="evt_0"), default,
                                         percent=50)  # fmt: skip
        started = timezone.now() - timedelta(days=3)
        Deployment.objects.filter(pk=deployment.pk).update(created=started)
        DeploymentLog.objects.filter(deployment=deployment).update(at=started)
        deployment.refresh_from_db()
        return deployment

    return make

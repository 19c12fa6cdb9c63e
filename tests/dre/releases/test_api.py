"""The REST API for releases, artifacts, deployments and cohorts (/api/v1/)."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dre.fleet.services import device_seen
from dre.releases.models import Deployment, Release
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, project, bob_token):
    base = f"/api/v1/projects/{project.pk}"

    def call(method, path, data=None, token=bob_token, **kwargs):
        send = getattr(client, method)
        if data is not None and not kwargs.pop("multipart", False) and method != "get":
            kwargs["content_type"] = "application/json"
        return send(base + path, data, headers=bearer(token), **kwargs)

    return call


def test_a_member_creates_a_release_and_uploads_its_payload(api):
    fields = {"software_type": "main", "version": "2.0.0", "notes": "Fix", "must_pass_through": 1}
    created = api("post", "/releases/", fields)
    assert created.status_code == 201, created.json()
    release_id = created.json()["id"]

    uploaded = api(
        "post",
        f"/releases/{release_id}/artifacts/",
        {"file": SimpleUploadedFile("fw.bin", b"payload"), "hardware_version": "evt",
         "extra_info": '{"signed": "yes"}'},
        multipart=True,
    )  # fmt: skip

    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["sha256"] == hashlib.sha256(b"payload").hexdigest()
    assert uploaded.json()["extra_info"] == {"signed": "yes"}
    listed = api("get", "/releases/").json()["results"]
    assert [(r["version"], r["must_pass_through"], len(r["artifacts"])) for r in listed] == [
        ("2.0.0", True, 1)
    ]


def test_the_same_payload_slot_twice_is_a_409(api, make_release):
    release = make_release("2.0.0")
    again = api(
        "post",
        f"/releases/{release.pk}/artifacts/",
        {"file": SimpleUploadedFile("fw.bin", b"other"), "hardware_version": "evt"},
        multipart=True,
    )

    assert again.status_code == 409


def test_a_viewer_reads_releases_but_cannot_create_one(api, victor_token, make_release):
    make_release("2.0.0")

    assert api("get", "/releases/", token=victor_token).status_code == 200
    refused = api("post", "/releases/", {"software_type": "main", "version": "3.0.0"},
                  token=victor_token)  # fmt: skip
    assert refused.status_code == 403
    assert Release.objects.count() == 1


def test_an_impossible_release_is_a_400(api):
    response = api(
        "post", "/releases/", {"software_type": "main", "version": "1.0.0", "delta_from": "2.0.0"}
    )

    assert response.status_code == 400
    assert "goes up" in response.json()["detail"]


def test_a_member_deploys_pauses_widens_and_pulls_with_a_log(api, make_release):
    release = make_release("2.0.0")

    created = api("post", "/deployments/", {"release": release.pk, "cohort": "default",
                                            "rollout_percent": 5})  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api("post", f"/deployments/{pk}/pause/", {"reason": "calls"}).status_code == 200
    assert api("post", f"/deployments/{pk}/widen/", {"rollout_percent": 20}).status_code == 200
    pulled = api("post", f"/deployments/{pk}/pull/", {})

    assert pulled.status_code == 200
    log = pulled.json()["log"]
    assert [e["action"] for e in log] == ["activated", "paused", "widened", "pulled"]
    assert all(e["actor"].startswith("bob (token ") for e in log)
    assert Deployment.objects.get().status == "pulled"


def test_widening_needs_a_percentage_and_a_bad_action_is_a_404(api, make_release):
    fields = {"release": make_release("2.0.0").pk, "cohort": "default", "rollout_percent": 5}
    pk = api("post", "/deployments/", fields).json()["id"]

    assert api("post", f"/deployments/{pk}/widen/", {}).status_code == 400
    assert api("post", f"/deployments/{pk}/explode/", {}).status_code == 404


def test_an_unknown_cohort_is_a_404(api, make_release):
    response = api("post", "/deployments/", {"release": make_release("2.0.0").pk, "cohort": "x"})

    assert response.status_code == 404


def test_cohorts_are_created_and_devices_moved_by_serial(api, project):
    device_seen(project, "dev-1")
    device_seen(project, "dev-2")

    created = api("post", "/cohorts/", {"slug": "beta", "allow_downgrades": True})
    moved = api("post", "/cohorts/beta/devices/", {"serials": ["dev-1", "dev-2"]})

    assert created.status_code == 201
    assert moved.json() == {"moved": 2}
    cohorts = {c["slug"]: c for c in api("get", "/cohorts/").json()}
    assert cohorts["beta"]["allow_downgrades"] is True
    assert device_seen(project, "dev-2").cohort.slug == "beta"


def test_moving_an_unknown_serial_moves_nothing(api, project):
    device_seen(project, "dev-1")
    api("post", "/cohorts/", {"slug": "beta"})

    response = api("post", "/cohorts/beta/devices/", {"serials": ["dev-1", "nope"]})

    assert response.status_code == 400
    assert "nope" in response.json()["serials"]
    assert device_seen(project, "dev-1").cohort.slug == "default"


def test_the_openapi_schema_describes_releases_and_deployments(client, bob_token):
    schema = client.get("/api/v1/schema/", headers=bearer(bob_token)).content

    assert b"/releases/{id}/artifacts/" in schema
    assert b"/deployments/{id}/{action}/" in schema


def test_devices_are_moved_by_their_attributes(api, project):
    from dre.fleet.services import hardware_version_get, software_version_get

    evt, dvt = hardware_version_get(project, "evt"), hardware_version_get(project, "dvt")
    old = software_version_get(project, "main", "1.0.0")
    device_seen(project, "dev-1", hardware_version=evt, software_version=old)
    device_seen(project, "dev-2", hardware_version=evt)
    device_seen(project, "dev-3", hardware_version=dvt, software_version=old)
    api("post", "/cohorts/", {"slug": "beta"})

    moved = api("post", "/cohorts/beta/devices/", {"hardware_version": "evt",
                "software_type": "main", "software_version": "1.0.0"})  # fmt: skip

    assert moved.json() == {"moved": 1}
    assert [device_seen(project, s).cohort.slug for s in ("dev-1", "dev-2", "dev-3")] == [
        "beta",
        "default",
        "default",
    ]


def test_moving_needs_serials_or_attributes_but_not_both(api, project):
    api("post", "/cohorts/", {"slug": "beta"})

    assert api("post", "/cohorts/beta/devices/", {}).status_code == 400
    both = api("post", "/cohorts/beta/devices/", {"serials": ["d"], "hardware_version": "evt"})
    assert both.status_code == 400


def test_a_cohorts_rollout_rule_is_set_and_shown_through_the_api(api, project):
    api("post", "/cohorts/", {"slug": "beta", "min_hours": 200, "margin": 0.1, "auto_widen": True})
    api("post", "/cohorts/", {"slug": "beta", "alpha": 0.01})

    [rule] = [c["rollout_rule"] for c in api("get", "/cohorts/").json() if c["slug"] == "beta"]
    assert rule == {"safety_enabled": True, "min_hours": 200.0, "min_devices": 30, "margin": 0.1,
                    "alpha": 0.01, "auto_widen": True, "widen_after_hours": 24.0}  # fmt: skip
    refused = api("post", "/cohorts/", {"slug": "beta", "alpha": 0.9})
    assert refused.status_code == 400


def test_a_release_lead_overrides_the_rule_with_a_reason(api, project, make_release):
    from dre.fleet.services import cohort_get_default
    from dre.releases.services import deployment_activate, deployment_halt

    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project), percent=5)
    deployment_halt(deployment, reason="worse", evidence={})

    without = api("post", f"/deployments/{deployment.pk}/override/", {})
    done = api("post", f"/deployments/{deployment.pk}/override/", {"reason": "known sensor issue"})

    assert without.status_code == 400
    assert done.status_code == 200
    deployment.refresh_from_db()
    assert (deployment.status, deployment.rule_overridden) == ("active", True)

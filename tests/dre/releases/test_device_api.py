"""`GET /api/v0/releases/latest[/url]`, exactly as memfault-formats.md 4.3 and 2.3 say."""

from urllib.parse import urlencode

import pytest
from django.db import DatabaseError

from dre.fleet.services import (
    cohort_get_default,
    cohort_get_or_create,
    device_seen,
    devices_move_to_cohort,
)
from dre.releases.models import UpdateCheck
from dre.releases.services import (
    cohort_policy_set,
    deployment_activate,
    deployment_pause,
    deployment_pull,
)

pytestmark = pytest.mark.django_db

QUERY = {
    "device_serial": "dev-1",
    "hardware_version": "evt",
    "software_type": "main",
    "current_version": "1.0.0",
}


@pytest.fixture
def ask(client, project_key):
    def get(path="/api/v0/releases/latest", key=None, raw_query=None, **params):
        query = raw_query if raw_query is not None else urlencode({**QUERY, **params})
        return client.get(f"{path}?{query}", headers={"Memfault-Project-Key": key or project_key})

    return get


@pytest.fixture
def deployed(project, make_release):
    """Release 2.0.0 (notes, revision) active for the default cohort."""
    release = make_release("2.0.0", notes="Fixes the radio", revision="r2", min_version="0.9.0")
    deployment_activate(release, cohort_get_default(project))
    return release


def test_it_answers_the_release_json_the_android_and_ios_sdks_parse(ask, deployed):
    response = ask()

    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["notes"], body["is_delta"]) == ("2.0.0", "Fixes the radio", False)
    assert (body["revision"], body["min_version"]) == ("r2", "0.9.0")
    artifact = body["artifacts"][0]
    assert artifact["url"].startswith("http://testserver/api/v0/releases/download/")
    assert artifact["file_size"] == len(b"firmware 2.0.0")
    assert len(artifact["md5"]) == 32
    assert artifact["hardware_version"] == "evt"


def test_it_answers_the_url_as_plain_text_for_the_c_sdk(ask, client, deployed):
    response = ask("/api/v0/releases/latest/url")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    download = client.get(response.content.decode().removeprefix("http://testserver"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"firmware 2.0.0"


def test_it_tolerates_the_c_sdks_stray_ampersand(ask, deployed):
    response = ask("/api/v0/releases/latest/url", raw_query="&" + urlencode(QUERY))

    assert response.status_code == 200


def test_a_repeated_parameter_counts_with_its_last_value(ask, deployed):
    response = ask(raw_query=urlencode(QUERY) + "&current_version=2.0.0")

    assert response.status_code == 204


def test_too_many_query_parameters_are_a_400(ask, deployed, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5

    response = ask(raw_query=urlencode(QUERY) + "&a=1&b=2")

    assert response.status_code == 400
    assert "too many query parameters" in response.json()["error"]["message"]


def test_a_query_of_unencoded_utf8_is_read_as_django_reads_it(ask, project, deployed):
    ask(raw_query=urlencode({**QUERY, "current_version": "x"}).replace("=x", "=1.0.0-é"))

    device = device_seen(project, "dev-1")
    assert str(device.software_version) == "main 1.0.0-é"


def test_nothing_newer_is_a_204_with_memfault_reason_latest(ask, deployed):
    response = ask("/api/v0/releases/latest/url", current_version="2.0.0")

    assert response.status_code == 204
    assert response["memfault-reason"] == "latest"


def test_a_wrong_project_key_is_a_403(ask, deployed):
    assert ask(key="not-a-key").status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"device_serial": ""}, "device_serial is required"),
        ({"device_serial": "dev 1"}, "device serial"),
        ({"hardware_version": "pvt"}, "unknown hardware_version"),
        ({"hardware_version": ""}, "hardware_version is required"),
        ({"software_type": "bootloader"}, "unknown software_type"),
    ],
)
def test_a_missing_or_unknown_parameter_is_a_400(ask, deployed, change, message):
    response = ask(**change)

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_without_software_type_the_projects_only_type_is_used(ask, client, project_key, deployed):
    query = urlencode({k: v for k, v in QUERY.items() if k != "software_type"})
    response = client.get(
        f"/api/v0/releases/latest?{query}", headers={"Memfault-Project-Key": project_key}
    )

    assert response.status_code == 200


def test_a_database_outage_is_a_503_with_retry_after(ask, deployed, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("dre.releases.selectors.cohort_offers", fail)

    response = ask()

    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_a_rate_limited_device_is_told_to_retry_later(ask, deployed, settings):
    settings.DEVICE_RATE_LIMIT = "1/m"
    ask()

    response = ask()

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


def test_every_answer_is_recorded(ask, deployed):
    ask()
    ask(current_version="2.0.0")

    checks = UpdateCheck.objects.order_by("pk")
    assert [(c.current_version, c.outcome, c.release) for c in checks] == [
        ("1.0.0", "offered", deployed),
        ("2.0.0", "up_to_date", None),
    ]


def test_the_device_reports_its_version_and_hardware_by_asking(ask, project, deployed):
    ask()

    device = device_seen(project, "dev-1")
    assert (str(device.software_version), str(device.hardware_version)) == ("main 1.0.0", "evt")


def test_a_paused_or_pulled_deployment_offers_nothing(ask, project, deployed):
    deployment = deployed.deployments.get()
    deployment_pause(deployment)
    assert ask().status_code == 204

    deployment_pull(deployment)
    assert ask().status_code == 204


def test_a_release_for_another_cohort_is_not_offered(ask, project, make_release):
    deployment_activate(make_release("2.0.0"), cohort_get_or_create(project, "beta"))

    assert ask().status_code == 204


def test_a_device_moved_into_the_cohort_gets_its_release(ask, project, make_release):
    beta = cohort_get_or_create(project, "beta")
    deployment_activate(make_release("2.0.0"), beta)
    ask()  # the device appears in the default cohort

    devices_move_to_cohort(project, ["dev-1"], beta)

    assert ask().status_code == 200


def test_a_release_without_a_payload_for_the_hardware_is_not_offered(ask, project, make_release):
    deployment_activate(make_release("2.0.0", hardware="dvt"), cohort_get_default(project))
    make_release("1.5.0")  # makes `evt` known without deploying it

    assert ask().status_code == 204


def test_downgrades_are_offered_only_where_the_cohort_allows_them(ask, project, make_release):
    default = cohort_get_default(project)
    deployment_activate(make_release("2.0.0"), default)

    assert ask(current_version="3.0.0").status_code == 204
    cohort_policy_set(default, allow_downgrades=True)
    assert ask(current_version="3.0.0").json()["version"] == "2.0.0"


def test_a_staged_rollout_reaches_only_its_staged_devices(ask, project, make_release):
    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project), percent=30)
    serials = [f"dev-{n}" for n in range(100)]

    offered = {s for s in serials if ask(device_serial=s).status_code == 200}

    from dre.releases.staging import is_staged

    assert offered == {s for s in serials if is_staged(str(deployment.salt), s, 30)}
    assert 12 <= len(offered) <= 48


def test_an_expired_download_url_is_refused(ask, client, deployed, settings):
    url = ask("/api/v0/releases/latest/url").content.decode()
    settings.OTA_DOWNLOAD_URL_TTL_SECONDS = -1

    response = client.get(url.removeprefix("http://testserver"))

    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


def test_a_tampered_download_url_is_refused(ask, client, deployed):
    url = ask("/api/v0/releases/latest/url").content.decode()

    response = client.get(
        url.removeprefix("http://testserver").replace("/download/", "/download/9")
    )

    assert response.status_code == 403


def test_the_delta_from_the_current_version_comes_first(ask, make_release, project):
    default = cohort_get_default(project)
    deployment_activate(make_release("2.0.0"), default)
    deployment_activate(make_release("2.0.0", delta_from="1.0.0", payload=b"delta"), default)

    body = ask().json()

    assert (body["version"], body["is_delta"], body["artifacts"][0]["file_size"]) == (
        "2.0.0",
        True,
        5,
    )

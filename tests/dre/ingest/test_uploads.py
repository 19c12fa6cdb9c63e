"""memfault-cli's prepared uploads and the raw coredump endpoint: bad inputs answer clearly."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from dre.crashes.models import Coredump
from dre.ingest.models import Upload
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db


def prepare(client, key, kind="COREDUMP", size=100):
    return client.post(
        "/api/v0/upload",
        {"kind": kind, "size": size},
        content_type="application/json",
        headers={"Memfault-Project-Key": key},
    )


def put(client, url, body: bytes):
    return client.put(url.split("testserver", 1)[-1], body, content_type="application/octet-stream")


def commit(client, key, token, md5=None, **extra):
    file = {"token": token, "name": "core.bin", **({"md5": md5} if md5 else {})}
    return client.post(
        "/api/v0/upload/coredump",
        {"file": file, **extra},
        content_type="application/json",
        headers={"Memfault-Project-Key": key},
    )


def test_the_prepared_flow_stores_the_coredump_as_uploaded(client, project_key):
    data = coredump_path().read_bytes()
    prepared = prepare(client, project_key, size=len(data)).json()["data"]

    assert put(client, prepared["upload_url"], data).status_code == 200
    response = commit(
        client, project_key, prepared["token"], hashlib.md5(data).hexdigest(), device_serial="d-1"
    )

    assert response.status_code == 202
    coredump = Coredump.objects.get()
    assert (coredump.size, coredump.device.serial) == (len(data), "d-1")
    assert coredump.source == Coredump.Source.PREPARED_UPLOAD


def test_an_unknown_kind_is_refused(client, project_key):
    response = prepare(client, project_key, kind="ANDROID_BUG_REPORT")

    assert response.status_code == 400
    assert "does not accept" in response.json()["error"]["message"]


def test_a_declared_size_over_the_limit_is_refused(client, project_key, settings):
    settings.MAX_COREDUMP_BYTES = 10
    assert prepare(client, project_key, size=11).status_code == 413


def test_a_body_over_the_limit_is_refused_at_put(client, project_key, settings):
    prepared = prepare(client, project_key).json()["data"]
    settings.MAX_COREDUMP_BYTES = 10

    assert put(client, prepared["upload_url"], b"x" * 11).status_code == 413
    assert Upload.objects.get().state == Upload.State.PENDING


def test_an_upload_url_works_once(client, project_key):
    prepared = prepare(client, project_key).json()["data"]
    put(client, prepared["upload_url"], b"CORE")

    assert put(client, prepared["upload_url"], b"CORE").status_code == 409


def test_an_unknown_or_expired_upload_url_is_404(client, project_key):
    prepared = prepare(client, project_key).json()["data"]
    Upload.objects.update(expires=timezone.now() - timedelta(seconds=1))

    assert put(client, prepared["upload_url"], b"CORE").status_code == 404
    assert client.put("/api/v0/uploads/nope", b"x").status_code == 404


def test_committing_before_the_put_is_refused(client, project_key):
    prepared = prepare(client, project_key).json()["data"]
    response = commit(client, project_key, prepared["token"])

    assert response.status_code == 400
    assert "no file was PUT" in response.json()["error"]["message"]


def test_a_wrong_md5_is_refused(client, project_key):
    prepared = prepare(client, project_key).json()["data"]
    put(client, prepared["upload_url"], b"CORE")

    assert commit(client, project_key, prepared["token"], md5="0" * 32).status_code == 400


def test_a_token_commits_once(client, project_key):
    prepared = prepare(client, project_key).json()["data"]
    put(client, prepared["upload_url"], b"CORE")
    commit(client, project_key, prepared["token"])

    assert commit(client, project_key, prepared["token"]).status_code == 409


def test_another_projects_token_is_unknown(client, project_key, other_project_key):
    prepared = prepare(client, project_key).json()["data"]
    put(client, prepared["upload_url"], b"CORE")

    assert commit(client, other_project_key, prepared["token"]).status_code == 404


def test_a_raw_coredump_upload_is_stored_and_queued(client, project_key):
    response = client.post(
        "/api/v0/upload/coredump?device_serial=d-9&software_type=main&software_version=1.2.3",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert response.status_code == 202
    coredump = Coredump.objects.get()
    assert coredump.device.serial == "d-9"
    assert str(coredump.software_version) == "main 1.2.3"


def test_a_raw_upload_that_is_no_coredump_is_a_400(client, project_key):
    response = client.post(
        "/api/v0/upload/coredump",
        b"\x00" * 64,
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert response.status_code == 400
    assert Coredump.objects.count() == 0


def test_a_raw_upload_needs_a_project_key(client, project):
    response = client.post(
        "/api/v0/upload/coredump", b"CORE", content_type="application/octet-stream"
    )

    assert response.status_code == 403


def test_malformed_json_is_a_400(client, project_key):
    response = client.post(
        "/api/v0/upload",
        b"{nope",
        content_type="application/json",
        headers={"Memfault-Project-Key": project_key},
    )

    assert response.status_code == 400

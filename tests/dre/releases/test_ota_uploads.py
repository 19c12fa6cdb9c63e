"""memfault-cli's multipart upload of OTA payloads (memfault-formats.md 3.2): bad
completions are refused and nothing is joined from parts that were not sent."""

import hashlib

import pytest

from dre.ingest.models import Upload, UploadPart

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli_client(client, org_token, project):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {org_token}"
    return client


def prepare(client, size, kind="OTA_PAYLOAD"):
    return client.post(
        "/api/v0/organizations/acme/projects/sensors/upload_multipart",
        {"kind": kind, "size": size},
        content_type="application/json",
    )


def local(url: str) -> str:
    return url.removeprefix("http://testserver")


def put_parts(client, urls, data: bytes) -> list[str]:
    step = len(data) // len(urls)
    pieces = [data[i * step : (i + 1) * step] for i in range(len(urls) - 1)]
    pieces.append(data[(len(urls) - 1) * step :])
    responses = [
        client.put(local(u), p, content_type="application/octet-stream")
        for u, p in zip(urls, pieces, strict=True)
    ]
    return [r["ETag"] for r in responses]


def complete(client, url, etags):
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
        for n, e in enumerate(etags, start=1)
    )
    body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>"
    return client.post(local(url), body, content_type="application/xml")


def test_the_project_advertises_parts_only_when_they_are_on(cli_client, settings):
    detail = "/api/v0/organizations/acme/projects/sensors"
    settings.OTA_UPLOAD_PART_BYTES = 0
    assert cli_client.get(detail).json()["data"]["max_ota_upload_size"] == 0

    settings.OTA_UPLOAD_PART_BYTES = 1024
    assert cli_client.get(detail).json()["data"]["max_ota_upload_size"] > 0


def test_parts_are_sized_by_the_setting_and_joined_in_order(cli_client, settings):
    settings.OTA_UPLOAD_PART_BYTES = 1000
    data = bytes(range(256)) * 10

    prepared = prepare(cli_client, len(data)).json()["data"]
    etags = put_parts(cli_client, prepared["part_urls"], data)
    response = complete(cli_client, prepared["complete_upload_url"], etags)

    assert len(prepared["part_urls"]) == 3
    assert response.status_code == 200
    upload = Upload.objects.get()
    assert (upload.state, upload.md5) == ("uploaded", hashlib.md5(data).hexdigest())
    assert UploadPart.objects.count() == 0


def test_a_completion_with_a_wrong_etag_is_refused(cli_client, settings):
    settings.OTA_UPLOAD_PART_BYTES = 1000
    prepared = prepare(cli_client, 2000).json()["data"]
    etags = put_parts(cli_client, prepared["part_urls"], b"x" * 2000)

    response = complete(cli_client, prepared["complete_upload_url"], [etags[0], '"0000"'])

    assert response.status_code == 400
    assert "do not match" in response.json()["error"]["message"]
    assert Upload.objects.get().state == "pending"


def test_a_completion_missing_a_part_is_refused(cli_client, settings):
    settings.OTA_UPLOAD_PART_BYTES = 1000
    prepared = prepare(cli_client, 2000).json()["data"]
    etags = put_parts(cli_client, prepared["part_urls"][:1], b"x" * 1000)

    response = complete(cli_client, prepared["complete_upload_url"], [*etags, '"abc"'])

    assert response.status_code == 400


def test_only_ota_payloads_come_in_parts(cli_client):
    response = prepare(cli_client, 100, kind="COREDUMP")

    assert response.status_code == 400
    assert "only OTA_PAYLOAD" in response.json()["error"]["message"]


def test_a_payload_over_the_limit_is_refused_before_any_part(cli_client, settings):
    settings.MAX_OTA_PAYLOAD_BYTES = 1000

    response = prepare(cli_client, 5000)

    assert response.status_code == 413
    assert "Uploaded file is too big" in response.json()["error"]["message"]


def test_a_part_url_of_an_unknown_token_is_a_404(client):
    response = client.put("/api/v0/uploads/nope/parts/1", b"x", content_type="text/plain")

    assert response.status_code == 404

"""With blobs in S3 (the s3 extra), a device's download URL is the store's presigned URL:
it downloads the payload from the store (moto's S3 server here), not through dre."""

from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest

from dre.fleet.services import cohort_get_default
from dre.releases.services import deployment_activate

QUERY = "device_serial=dev-1&hardware_version=evt&software_type=main&current_version=1.0.0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_bucket, s3_endpoint):
    """The test bucket's URL (tests/dre/conftest.py's s3_bucket)."""
    return f"{s3_endpoint}/{s3_bucket[1]}"


@pytest.fixture
def deployed(bucket, project, make_release):
    release = make_release("2.0.0", payload=b"firmware from the bucket")
    deployment_activate(release, cohort_get_default(project))
    return release


def test_the_device_is_handed_a_presigned_url_of_the_store(client, project_key, deployed, bucket):
    answer = client.get(f"/api/v0/releases/latest/url?{QUERY}",
                        headers={"Memfault-Project-Key": project_key})  # fmt: skip

    url = answer.content.decode()
    assert url.startswith(bucket + "/ota/")
    query = parse_qs(urlsplit(url).query)
    assert "X-Amz-Signature" in query or "Signature" in query
    with urlopen(url) as download:
        assert download.read() == b"firmware from the bucket"
        assert 'filename="2.0.0.bin"' in download.headers["Content-Disposition"]


def test_the_presigned_url_expires_after_the_configured_lifetime(
    client, project_key, deployed, settings
):
    settings.OTA_DOWNLOAD_URL_TTL_SECONDS = 900
    answer = client.get(f"/api/v0/releases/latest?{QUERY}",
                        headers={"Memfault-Project-Key": project_key})  # fmt: skip

    url = answer.json()["artifacts"][0]["url"]
    query = parse_qs(urlsplit(url).query)
    assert query.get("X-Amz-Expires", query.get("Expires")) is not None
    if "X-Amz-Expires" in query:
        assert query["X-Amz-Expires"] == ["900"]


def test_a_dre_download_url_redirects_to_the_store(client, deployed):
    from dre.releases.downloads import artifact_download_path

    response = client.get(artifact_download_path(deployed.artifacts.get()))

    assert response.status_code == 302
    with urlopen(response["Location"]) as download:
        assert download.read() == b"firmware from the bucket"

"""Custom data recordings: bytes kept in blob storage with MIME types and reason,
downloadable by project members only."""

import pytest

from dre import blobs
from dre.accounts.services import api_token_create
from dre.diagnostics.models import Recording
from dre.ingest import wire
from tests.builders import sdk_event
from tests.conftest import bearer
from tests.dre.diagnostics.conftest import DAY_START

pytestmark = pytest.mark.django_db
AUDIO = bytes(range(256)) * 4


def cdr(data=AUDIO, mimetypes=("audio/wav", "application/octet-stream"), reason="glitch"):
    """A CDR body (memfault-formats.md §2.5.5): 1 duration, 2 MIME types, 3 reason, 4 data."""
    return sdk_event(5, {1: 1500, 2: list(mimetypes), 3: reason, 4: data}, captured_at=DAY_START)


def test_it_stores_a_recording_as_a_blob_with_its_mime_types(send):
    send(cdr(), message_type=wire.MessageType.CDR)

    recording = Recording.objects.get()
    assert blobs.blob_read(recording.blob) == AUDIO
    assert (recording.size, recording.duration_ms, recording.reason) == (1024, 1500, "glitch")
    assert recording.mimetypes == ["audio/wav", "application/octet-stream"]
    assert recording.content_type == "audio/wav"


def test_a_member_downloads_a_recording_with_its_type(send, client, victor):
    send(cdr(), message_type=wire.MessageType.CDR)
    recording = Recording.objects.get()
    client.force_login(victor)

    response = client.get(f"/acme/sensors/recordings/{recording.pk}/download")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == AUDIO
    assert "attachment" in response["Content-Disposition"]


def test_an_outsider_cannot_download_a_recording(send, client, charlie):
    send(cdr(), message_type=wire.MessageType.CDR)
    client.force_login(charlie)

    response = client.get(f"/acme/sensors/recordings/{Recording.objects.get().pk}/download")

    assert response.status_code == 404


def test_the_api_serves_a_recording_to_a_token_of_its_organization(
    send, client, project, org_token
):
    send(cdr(), message_type=wire.MessageType.CDR)
    recording = Recording.objects.get()
    token = bearer(org_token)
    url = f"/api/v1/projects/{project.pk}/recordings/{recording.pk}"

    listed = client.get(f"/api/v1/projects/{project.pk}/recordings/", headers=token).json()
    response = client.get(f"{url}/download/", headers=token)

    assert listed["results"][0]["mimetypes"] == ["audio/wav", "application/octet-stream"]
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == AUDIO


def test_the_api_hides_a_recording_from_another_organization(send, client, project, globex):
    send(cdr(), message_type=wire.MessageType.CDR)
    token = bearer(api_token_create(organization=globex)[1])
    url = f"/api/v1/projects/{project.pk}/recordings/{Recording.objects.get().pk}/download/"

    assert client.get(url, headers=token).status_code == 404

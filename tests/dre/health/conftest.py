"""Posting SDK events through the chunk endpoint, as a device does."""

import pytest

from tests.builders import event_chunks

DAY_START = 1_764_806_400  # 2025-12-04 00:00:00 UTC


@pytest.fixture
def send(client, project_key, django_capture_on_commit_callbacks):
    """POST events as chunks of one message, running what the request queued on commit."""

    def post(*events, serial="dev-1"):
        for chunk in event_chunks(*events):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    f"/api/v0/chunks/{serial}",
                    chunk,
                    content_type="application/octet-stream",
                    headers={"Memfault-Project-Key": project_key},
                )
            assert response.status_code == 202, response.content

    return post

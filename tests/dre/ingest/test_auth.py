"""Project keys on device requests: remembered per process for a short time."""

import pytest

from dre.accounts.models import ProjectKey
from dre.accounts.services import secret_revoke
from dre.ingest import auth
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db


def upload(client, key):
    return client.post(
        "/api/v0/upload/coredump",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": key},
    )


def test_a_revoked_key_is_refused_once_the_process_forgets_it(client, project_key, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    assert upload(client, project_key).status_code == 202
    secret_revoke(ProjectKey.objects.get())

    still_known = upload(client, project_key)
    clock[0] += auth.KEY_CACHE_SECONDS + 1
    forgotten = upload(client, project_key)

    assert still_known.status_code == 202
    assert forgotten.status_code == 403


def test_an_unknown_key_is_not_remembered(client, project_key):
    assert upload(client, "0" * 32).status_code == 403

    assert "0" * 32 not in auth._known_keys

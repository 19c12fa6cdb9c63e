"""Releases for the tests: payloads stored as blobs, as the upload flows store them."""

import pytest

from dre import blobs
from dre.releases.services import artifact_add, release_get_or_create


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

"""Releases and their artifacts (memfault-formats.md 4.1)."""

import hashlib

import pytest

from dre import blobs
from dre.releases.selectors import release_list
from dre.releases.services import (
    ReleaseConflict,
    ReleaseRejected,
    artifact_add,
    release_get_or_create,
)
from tests.dre.releases.conftest import store_payload

pytestmark = pytest.mark.django_db


def test_it_keeps_an_artifacts_size_md5_and_sha256(project):
    release = release_get_or_create(project, "main", "1.2.0", notes="Fixes the watchdog")
    data = b"\x7fpayload" * 1000

    artifact = artifact_add(release, "evt", store_payload(project, data), filename="fw.bin")

    assert artifact.size == len(data)
    assert artifact.md5 == hashlib.md5(data).hexdigest()
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert blobs.blob_read(artifact.blob) == data
    assert str(artifact.hardware_version) == "evt"


def test_it_lists_releases_in_version_order_not_text_order(project, make_release):
    for version in ["1.9.0", "1.10.0", "1.10.0-rc.1", "1.2.0"]:
        make_release(version)

    assert [r.version.version for r in release_list(project)] == [
        "1.10.0",
        "1.10.0-rc.1",
        "1.9.0",
        "1.2.0",
    ]


def test_a_second_payload_of_the_same_version_joins_the_release(project, make_release):
    first = make_release("2.0.0", hardware="evt")
    second = make_release("2.0.0", hardware="dvt")

    assert first == second
    assert first.artifacts.count() == 2


def test_it_refuses_a_second_payload_for_the_same_hardware(project, make_release):
    make_release("2.0.0")

    with pytest.raises(ReleaseConflict, match="already has a standalone payload for evt"):
        make_release("2.0.0")


def test_a_delta_release_goes_from_exactly_one_version_to_another(project, make_release):
    full = make_release("2.0.0")
    delta = make_release("2.0.0", delta_from="1.0.0")

    assert delta != full
    assert delta.is_delta
    assert str(delta) == "1.0.0 → 2.0.0"


def test_it_refuses_a_delta_that_goes_down(project):
    with pytest.raises(ReleaseRejected, match="a delta release goes up"):
        release_get_or_create(project, "main", "1.0.0", delta_from="2.0.0")


def test_it_refuses_must_pass_through_on_a_delta(project):
    with pytest.raises(ReleaseRejected, match="flag of full releases"):
        release_get_or_create(project, "main", "2.0.0", delta_from="1.0.0", must_pass_through=True)


def test_it_refuses_a_version_with_control_characters(project):
    with pytest.raises(ReleaseRejected, match="printable"):
        release_get_or_create(project, "main", "1.0.0\n")


def test_it_keeps_revision_notes_minimum_version_and_extra_info(project):
    release = release_get_or_create(
        project,
        "main",
        "3.0.0",
        revision="abc123",
        notes="New radio stack",
        min_version="2.0.0",
        must_pass_through=True,
        extra_info={"channel": "beta"},
    )
    release.refresh_from_db()

    assert (release.revision, release.notes, release.min_version) == (
        "abc123",
        "New radio stack",
        "2.0.0",
    )
    assert release.must_pass_through
    assert release.extra_info == {"channel": "beta"}

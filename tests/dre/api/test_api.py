"""The REST API under /api/v1/: token authentication and project scoping."""

import pytest

from dre.accounts.services import api_token_create
from dre.crashes.models import Coredump, GroupingRules, Trace
from tests.conftest import bearer
from tests.dre.conftest import send_coredump
from tests.firmware_fixtures import coredump_path, elf_path

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_projects_of_the_callers_organizations(
    client, project, other_project, alice_token
):
    response = client.get("/api/v1/projects/", headers=bearer(alice_token))

    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == ["sensors"]


def test_another_organizations_project_answers_404(client, project, charlie_token):
    response = client.get(f"/api/v1/projects/{project.pk}/issues/", headers=bearer(charlie_token))

    assert response.status_code == 404


def test_a_missing_or_wrong_token_gets_401(client, project):
    assert client.get("/api/v1/projects/").status_code in (401, 403)
    assert client.get("/api/v1/projects/", headers=bearer("oat_nope")).status_code == 401


def test_an_org_token_reads_its_organizations_projects(client, project, org_token):
    response = client.get(f"/api/v1/projects/{project.pk}/devices/", headers=bearer(org_token))

    assert response.status_code == 200


def test_it_uploads_an_elf_and_a_coredump_and_reads_the_trace(
    client, project, alice_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), open(elf_path(), "rb") as elf:
        response = client.post(
            f"/api/v1/projects/{project.pk}/symbol-files/upload/",
            {"file": elf},
            headers=bearer(alice_token),
        )
    assert response.status_code == 201, response.content
    assert response.json()["build_id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/projects/{project.pk}/coredumps/upload/?device_serial=bench-1",
            coredump_path().read_bytes(),
            content_type="application/octet-stream",
            headers=bearer(alice_token),
        )
    assert response.status_code == 202, response.content
    coredump = Coredump.objects.get()
    assert coredump.state == Coredump.State.GROUPED

    trace = client.get(
        f"/api/v1/projects/{project.pk}/traces/{coredump.trace.pk}/", headers=bearer(alice_token)
    )
    first = trace.json()["data"]["threads"][0]["frames"][0]
    assert first["function"] == "record_word_store"
    assert first["arguments"][0]["text"] == "0xc <g_vector_table+12>"  # read on this first open
    assert Trace.objects.get().data["variables"] == "read"
    issues = client.get(
        f"/api/v1/projects/{project.pk}/issues/", headers=bearer(alice_token)
    ).json()
    assert issues["results"][0]["trace_count"] == 1


def test_a_viewer_cannot_upload(client, project, charlie, acme):
    from dre.accounts.models import Role
    from dre.accounts.services import membership_set

    membership_set(user=charlie, organization=acme, role=Role.VIEWER)
    token = api_token_create(organization=acme, user=charlie)[1]
    response = client.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers=bearer(token),
    )

    assert response.status_code == 403


def test_uploading_something_else_than_a_coredump_is_a_400(client, project, alice_token):
    response = client.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/",
        b"hello",
        content_type="application/octet-stream",
        headers=bearer(alice_token),
    )

    assert response.status_code == 400
    assert "not a coredump format" in response.json()["detail"]


def test_the_openapi_schema_describes_the_uploads(client, alice_token):
    response = client.get("/api/v1/schema/", headers=bearer(alice_token))

    assert response.status_code == 200
    assert b"/coredumps/upload/" in response.content


def test_coredumps_list_shows_processing_state_and_errors(client, project, alice_token):
    send_coredump(project)
    response = client.get(f"/api/v1/projects/{project.pk}/coredumps/", headers=bearer(alice_token))

    assert response.json()["results"][0]["state"] == "received"


def test_alice_reads_the_default_rules_and_takes_one_back_with_her_own(
    client, project, alice_token
):
    url = f"/api/v1/projects/{project.pk}/grouping-rules/"

    before = client.get(url, headers=bearer(alice_token)).json()
    response = client.put(
        url,
        {"not_in_app": "+app:vAssertCalled\n-app:dre_assert_*", "max_frames": 4},
        content_type="application/json",
        headers=bearer(alice_token),
    )

    assert {"text": "function:assert_failed -app", "label": "HAL assert hook"} in before[
        "default_rules"
    ]
    assert before["not_in_app"] == ""
    assert response.status_code == 200
    assert response.json()["not_in_app"] == "+app:vAssertCalled\n-app:dre_assert_*"
    assert GroupingRules.objects.get(project=project).max_frames == 4


def test_a_rule_that_does_not_parse_is_refused_with_the_reason(client, project, alice_token):
    response = client.put(
        f"/api/v1/projects/{project.pk}/grouping-rules/",
        {"not_in_app": "hal_*"},
        content_type="application/json",
        headers=bearer(alice_token),
    )

    assert response.status_code == 400
    assert "start with +app:, -app:, function: or file:" in response.json()["not_in_app"][0]
    assert not GroupingRules.objects.exists()


def test_victor_the_viewer_reads_the_rules_but_cannot_change_them(client, project, acme, victor):
    token = api_token_create(organization=acme, user=victor)[1]
    url = f"/api/v1/projects/{project.pk}/grouping-rules/"

    assert client.get(url, headers=bearer(token)).status_code == 200
    response = client.put(
        url, {"not_in_app": "-app:x"}, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 403

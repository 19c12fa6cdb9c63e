"""The pages: login, a project's issues and an issue's traces, scoped to members."""

import pytest

from tests.conftest import PASSWORD
from tests.dre.conftest import send_coredump

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(project, symbol_file, run_on_commit):
    return run_on_commit(send_coredump, project).trace.issue


def test_pages_need_a_login(client, project):
    response = client.get("/acme/sensors/issues/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_alice_logs_in_and_lands_on_her_only_project(client, alice, project):
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == "/acme/sensors/issues/"


def test_the_issue_list_shows_title_counts_and_versions(client, alice, issue):
    client.force_login(alice)
    page = client.get("/acme/sensors/issues/").content.decode()

    assert "MemManage fault: data access violation in record_word_store" in page
    assert "1.0.0" in page


def test_the_issue_page_lists_traces_with_their_backtrace(client, bob, issue):
    client.force_login(bob)
    page = client.get(f"/acme/sensors/issues/{issue.pk}/").content.decode()

    assert "record_word_store" in page
    assert "src/storage.c:26" in page


def test_charlie_sees_neither_the_project_nor_its_issues(client, charlie, issue):
    client.force_login(charlie)

    assert client.get("/acme/sensors/issues/").status_code == 404
    assert client.get(f"/acme/sensors/issues/{issue.pk}/").status_code == 404


def test_text_from_devices_is_escaped(client, alice, project, symbol_file, run_on_commit):
    from dre.fleet.services import device_seen

    device = device_seen(project, "evil-1")
    coredump = run_on_commit(send_coredump, project, device=device)
    trace = coredump.trace
    trace.data["threads"][0]["frames"][0]["function"] = "<script>alert(1)</script>"
    trace.save()
    client.force_login(alice)
    page = client.get(f"/acme/sensors/issues/{trace.issue_id}/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page

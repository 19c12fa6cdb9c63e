"""POST .../coredumps/<id>/reprocess/ and .../symbol-files/<id>/reprocess/: after a fix,
members process failed work again from its kept bytes."""

import pytest

from dre.accounts.services import api_token_create
from dre.crashes.models import Coredump
from dre.symbols.models import SymbolFile
from tests.conftest import bearer
from tests.dre.conftest import send_coredump

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(project, symbol_file):
    coredump = send_coredump(project)
    Coredump.objects.filter(pk=coredump.pk).update(
        state=Coredump.State.FAILED, error="failed 3 times; last error: RuntimeError: x"
    )
    return coredump


def test_it_shows_the_error_traceback_and_attempts_of_a_failed_coredump(
    client, project, failed, bob_token
):
    response = client.get(
        f"/api/v1/projects/{project.pk}/coredumps/{failed.pk}/", headers=bearer(bob_token)
    )

    body = response.json()
    assert body["state"] == "failed"
    assert body["error"] == "failed 3 times; last error: RuntimeError: x"
    assert {"traceback", "attempts"} <= body.keys()


def test_a_member_reprocesses_a_failed_coredump(
    client, project, failed, bob_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/projects/{project.pk}/coredumps/{failed.pk}/reprocess/",
            headers=bearer(bob_token),
        )

    assert response.status_code == 202
    assert response.json()["error"] == ""
    failed.refresh_from_db()
    assert failed.state == Coredump.State.GROUPED


def test_reprocessing_what_did_not_fail_is_a_409(client, project, symbol_file, bob_token):
    response = client.post(
        f"/api/v1/projects/{project.pk}/symbol-files/{symbol_file.pk}/reprocess/",
        headers=bearer(bob_token),
    )

    assert response.status_code == 409
    assert response.json()["detail"] == f"symbol file {symbol_file.pk} is ready, not failed"


def test_a_viewer_cannot_reprocess(client, project, failed, victor):
    token = api_token_create(organization=project.organization, user=victor)[1]

    response = client.post(
        f"/api/v1/projects/{project.pk}/coredumps/{failed.pk}/reprocess/", headers=bearer(token)
    )

    assert response.status_code == 403
    assert Coredump.objects.get().state == Coredump.State.FAILED


def test_another_organization_cannot_see_the_coredump(client, project, failed, globex, charlie):
    token = api_token_create(organization=globex, user=charlie)[1]

    response = client.post(
        f"/api/v1/projects/{project.pk}/coredumps/{failed.pk}/reprocess/", headers=bearer(token)
    )

    assert response.status_code == 404
    assert SymbolFile.objects.get().state == SymbolFile.State.READY

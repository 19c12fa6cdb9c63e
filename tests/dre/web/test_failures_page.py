"""The failures page: what the pipeline gave up on, why, and a Reprocess button for members."""

import pytest

from dre.crashes.models import Coredump
from dre.symbols.models import SymbolFile
from tests.dre.conftest import send_coredump

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(project, symbol_file):
    coredump = send_coredump(project)
    Coredump.objects.filter(pk=coredump.pk).update(
        state=Coredump.State.FAILED,
        attempts=3,
        error="failed 3 times; last error: RuntimeError: unexpected register layout",
        traceback='File "dre/crashes/services.py", line 1, in _symbolicate',
    )
    SymbolFile.objects.filter(pk=symbol_file.pk).update(
        state=SymbolFile.State.FAILED, error="indexing failed: truncated .debug_info"
    )
    return coredump


def test_it_lists_failed_coredumps_and_symbol_files_with_error_and_traceback(
    client, victor, failed
):
    client.force_login(victor)
    page = client.get("/acme/sensors/failures/").content.decode()

    assert "RuntimeError: unexpected register layout" in page
    assert "line 1, in _symbolicate" in page
    assert "indexing failed: truncated .debug_info" in page
    assert "Reprocess</button>" not in page  # viewers read, members act


def test_it_counts_the_crashes_waiting_for_a_failed_symbol_file(client, bob, failed):
    build_id = SymbolFile.objects.get().build_id
    Coredump.objects.update(state=Coredump.State.AWAITING_SYMBOLS, build_id=build_id)
    send_coredump(failed.project, scenario="div_zero")  # not parsed yet: no build id known
    client.force_login(bob)

    page = client.get("/acme/sensors/failures/").content.decode()

    assert '<td class="waiting">1</td>' in page


def test_a_member_reprocesses_a_failed_coredump_from_the_page(
    client, bob, failed, django_capture_on_commit_callbacks
):
    client.force_login(bob)
    SymbolFile.objects.update(state=SymbolFile.State.READY)  # its symbols are fine
    assert "Reprocess</button>" in client.get("/acme/sensors/failures/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/acme/sensors/failures/coredumps/{failed.pk}/reprocess/", follow=True
        )

    assert f"Coredump {failed.pk} queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == Coredump.State.GROUPED


def test_a_viewer_cannot_reprocess(client, victor, failed):
    client.force_login(victor)

    response = client.post(f"/acme/sensors/failures/coredumps/{failed.pk}/reprocess/")

    assert response.status_code == 403
    assert Coredump.objects.get().state == Coredump.State.FAILED

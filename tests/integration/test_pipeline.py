"""End to end with real parts: memfault-cli -> live server -> Redis -> Celery worker -> Postgres."""

import json
from pathlib import Path

import pytest

from dre.crashes.models import Coredump, Issue
from dre.ingest import wire
from dre.symbols.models import SymbolFile
from tests.firmware_fixtures import FIXTURES, coredump_path, elf_path
from tests.integration.conftest import device_post, wait_for
from tests.memfault_cli import memfault

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def crashing_function(scenario_dir: Path) -> str:
    reference = json.loads((scenario_dir / "gdb.json").read_text())
    return reference["threads"][0]["frames"][0]["function"]


def test_an_elf_from_the_cli_and_a_coredump_from_chunks_become_an_issue(
    live_worker, live_server, org_token, project_key, project
):
    symbols = memfault(
        live_server,
        "upload-mcu-symbols",
        str(elf_path()),
        org_token=org_token,
        org="acme",
        project="sensors",
    )
    assert symbols.returncode == 0, symbols.stderr
    wait_for(lambda: SymbolFile.objects.filter(state=SymbolFile.State.READY).exists())

    message = wire.encode_message(wire.MessageType.COREDUMP, coredump_path().read_bytes(), rle=True)
    for chunk in wire.encode_chunks(message, chunk_size=256):
        response = device_post(f"{live_server.url}/api/v0/chunks/field-unit-7", chunk, project_key)
        assert response.status_code == 202

    issue = wait_for(lambda: Issue.objects.first())
    assert Coredump.objects.get().state == Coredump.State.GROUPED
    assert crashing_function(FIXTURES / "an385-O0" / "null_write") in issue.title
    assert issue.device_count == 1


def test_a_coredump_waits_for_its_elf_and_is_processed_when_it_arrives(
    live_worker, live_server, org_token, project_key, project
):
    with open(coredump_path("an385-O2", "div_zero"), "rb") as body:
        response = device_post(f"{live_server.url}/api/v0/upload/coredump", body, project_key)
    assert response.status_code == 202
    wait_for(lambda: Coredump.objects.filter(state=Coredump.State.AWAITING_SYMBOLS).exists())

    symbols = memfault(
        live_server,
        "upload-mcu-symbols",
        str(elf_path("an385-O2")),
        org_token=org_token,
        org="acme",
        project="sensors",
    )
    assert symbols.returncode == 0, symbols.stderr

    wait_for(lambda: Coredump.objects.filter(state=Coredump.State.GROUPED).exists())
    assert Issue.objects.count() == 1

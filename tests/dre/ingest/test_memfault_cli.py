"""The real memfault-cli 1.12, unmodified, against a live dre server (memfault-formats.md 3)."""

import pytest

from dre.crashes.models import Coredump, Issue
from dre.ingest.models import Event
from dre.symbols.models import SymbolFile
from tests.firmware_fixtures import FIXTURES, coredump_path, elf_path
from tests.memfault_cli import memfault

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_uploads_mcu_symbols_with_an_org_token(live_server, org_token, project):
    result = memfault(
        live_server,
        "upload-mcu-symbols",
        str(elf_path()),
        org_token=org_token,
        org="acme",
        project="sensors",
    )

    assert result.returncode == 0, result.stderr
    symbol_file = SymbolFile.objects.get()
    assert symbol_file.state == SymbolFile.State.READY
    assert len(symbol_file.build_id) == 40


def test_it_skips_symbols_that_are_already_uploaded(live_server, org_token, project):
    args = ("upload-mcu-symbols", str(elf_path()))
    credentials = {"org_token": org_token, "org": "acme", "project": "sensors"}
    assert memfault(live_server, *args, **credentials).returncode == 0

    again = memfault(live_server, *args, **credentials)

    assert again.returncode == 0, again.stderr
    assert SymbolFile.objects.count() == 1


def test_it_uploads_symbols_with_a_software_version(live_server, org_token, project):
    result = memfault(
        live_server,
        "upload-mcu-symbols",
        "--software-type",
        "main",
        "--software-version",
        "2.1.0",
        "--no-check-uploaded",
        str(elf_path("an385-O2")),
        org_token=org_token,
        org="acme",
        project="sensors",
    )

    assert result.returncode == 0, result.stderr
    assert str(SymbolFile.objects.get().software_version) == "main 2.1.0"


def test_a_token_of_another_organization_cannot_upload_symbols(
    live_server, org_token, other_project
):
    result = memfault(
        live_server,
        "upload-mcu-symbols",
        str(elf_path()),
        org_token=org_token,
        org="globex",
        project="turbines",
    )

    assert result.returncode != 0
    assert SymbolFile.objects.count() == 0


def test_it_uploads_a_coredump_that_becomes_an_issue(live_server, org_token, project_key, project):
    symbols = memfault(
        live_server,
        "upload-mcu-symbols",
        str(elf_path()),
        org_token=org_token,
        org="acme",
        project="sensors",
    )
    assert symbols.returncode == 0, symbols.stderr

    result = memfault(
        live_server,
        "upload-coredump",
        "--device-serial",
        "cli-device",
        str(coredump_path()),
        project_key=project_key,
    )

    assert result.returncode == 0, result.stderr
    coredump = Coredump.objects.get()
    assert coredump.device.serial == "cli-device"
    assert coredump.state == Coredump.State.GROUPED
    assert Issue.objects.get().trace_count == 1


def test_it_posts_chunks_exported_over_a_console(live_server, project_key, project):
    export = FIXTURES / "memfault-chunks" / "test-pattern-data-export.txt"
    result = memfault(
        live_server,
        "post-chunk",
        "--encoding",
        "sdk_data_export",
        str(export),
        project_key=project_key,
    )

    assert result.returncode == 0, result.stderr
    assert Event.objects.get().data["info"]["metrics"] == {"chunk_test_success": 1}


def test_it_posts_a_single_binary_chunk(live_server, project_key, project):
    chunk = FIXTURES / "memfault-chunks" / "chunk_v2_single_chunk_msg.bin"
    result = memfault(
        live_server,
        "post-chunk",
        "--encoding",
        "bin",
        "--device-serial",
        "bin-device",
        str(chunk),
        project_key=project_key,
    )

    assert result.returncode == 0, result.stderr
    assert Event.objects.get().device.serial == "bin-device"


def test_a_wrong_project_key_fails_the_cli(live_server, project):
    chunk = FIXTURES / "memfault-chunks" / "chunk_v2_single_chunk_msg.bin"
    result = memfault(
        live_server, "post-chunk", "--encoding", "bin", str(chunk), project_key="f" * 32
    )

    assert result.returncode != 0
    assert Event.objects.count() == 0

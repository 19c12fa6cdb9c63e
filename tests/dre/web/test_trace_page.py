"""The trace page: header, threads and frames, downloads; text from devices escaped."""

import re
import subprocess

import pytest

from dre.crashes.models import Trace
from dre.fleet.models import HardwareVersion

pytestmark = pytest.mark.django_db


def url(trace, suffix=""):
    return f"/acme/sensors/traces/{trace.pk}/{suffix}"


def test_the_header_names_device_versions_time_reason_and_the_fault(client, bob, trace):
    client.force_login(bob)

    page = client.get(url(trace)).content.decode()

    assert f'href="/acme/sensors/traces/?device={trace.coredump.device_id}"' in page
    assert "dev-1" in page
    assert "dre-testfw 1.0.0" in page
    assert "mps2-an385" in page
    assert "MemManage" in page
    assert "data access violation writing 0x0000000C in record_word_store()" in page
    assert f'href="/acme/sensors/issues/{trace.issue_id}/"' in page


def test_every_thread_is_listed_and_the_crashing_one_is_open(client, bob, trace):
    client.force_login(bob)

    page = client.get(url(trace)).content.decode()

    for name in ("main", "sensor", "comms", "logger"):
        assert f'<span class="thread-name">{name}</span>' in page
    assert '<details class="thread crashed" data-thread="0" open>' in page
    assert '<details class="thread" data-thread="1" >' in page
    assert "stack 176 of 2048 bytes in use (9%); peak 208 (10%)" in page
    assert "Unwinding ended: outermost frame" in page


def test_rtos_threads_show_their_kernel_priority_and_what_they_wait_on(
    client, bob, project, run_on_commit
):
    from tests.dre.conftest import send_coredump, store_elf

    run_on_commit(store_elf, project, "freertos-an385-O0")
    coredump = run_on_commit(send_coredump, project, "freertos-an385-O0", "task_fault")
    coredump.refresh_from_db()
    client.force_login(bob)

    page = client.get(url(coredump.trace)).content.decode()

    assert "<dt>Threads from</dt><dd>FreeRTOS</dd>" in page
    assert '<span class="thread-name">sensor</span>' in page
    assert '<span class="muted" title="priority">prio 3</span>' in page
    assert "<li>delayed until tick 50000</li>" in page


def test_frames_show_inline_markers_exception_separators_and_hints(client, bob, irq_trace):
    client.force_login(bob)

    page = client.get(url(irq_trace)).content.decode()

    assert '<span class="tag inline" title="inlined at src/isr.c:' in page
    assert "&lt;signal handler called&gt;" in page
    assert "exception frame" in page
    assert '<span class="tag">tail call</span>' in page
    assert "src/isr.c:" in page


def test_the_raw_coredump_downloads_byte_for_byte(client, victor, trace):
    from tests.firmware_fixtures import coredump_path

    client.force_login(victor)

    response = client.get(url(trace, "coredump.bin"))

    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f'attachment; filename="trace-{trace.pk}-coredump.bin"'
    )
    assert response.content == coredump_path().read_bytes()


def test_the_elf_core_downloads_for_gdb(client, bob, trace):
    client.force_login(bob)

    response = client.get(url(trace, "core.elf"))

    assert response.status_code == 200
    assert response.content[:4] == b"\x7fELF"
    assert "ELF core for GDB" in client.get(url(trace)).content.decode()


def test_gdb_shows_the_traces_backtrace_from_the_downloaded_core(client, bob, trace, tmp_path, gdb):
    from tests.firmware_fixtures import elf_path

    client.force_login(bob)
    core = tmp_path / "core"
    core.write_bytes(client.get(url(trace, "core.elf")).content)

    gdb = subprocess.run(
        [gdb, "--batch", "-nx", "-ex", "bt", str(elf_path()), str(core)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    backtrace = gdb.stdout[gdb.stdout.rindex("#0 ") :]  # GDB prints frame 0 once on loading
    shown = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", backtrace, re.MULTILINE)

    expected = [f["function"] for f in trace.data["threads"][0]["frames"]]
    assert shown[:5] == expected[:5]


def test_charlie_gets_nothing_of_another_organizations_trace(client, charlie, globex, trace):
    client.force_login(charlie)

    for suffix in ("", "coredump.bin", "core.elf"):
        assert client.get(url(trace, suffix)).status_code == 404


def test_a_trace_of_another_project_is_not_found_under_this_one(client, alice, trace, acme):
    from dre.accounts.services import project_create

    project_create(organization=acme, slug="other")
    client.force_login(alice)

    assert client.get(f"/acme/other/traces/{trace.pk}/").status_code == 404


def test_everything_a_device_sent_is_escaped(client, alice, trace):
    evil = "<img src=x onerror=alert(1)>"
    data = trace.data
    data["threads"][1]["name"] = evil
    data["threads"][0]["frames"][0]["function"] = evil
    data["summary"] = evil
    data["warnings"] = [evil]
    Trace.objects.filter(pk=trace.pk).update(data=data, title=evil)
    HardwareVersion.objects.filter(pk=trace.coredump.hardware_version_id).update(name=evil)
    client.force_login(alice)

    pages = [
        client.get(url(trace)).content.decode(),
        client.get(f"/acme/sensors/issues/{trace.issue_id}/").content.decode(),
        client.get(f"/acme/sensors/traces/?device={trace.coredump.device_id}").content.decode(),
    ]

    for page in pages:
        assert evil not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]


def test_the_device_link_lists_its_other_traces(client, bob, crash):
    first = crash(serial="dev-1")
    second = crash(scenario="div_zero", serial="dev-1")
    crash(serial="dev-2")
    client.force_login(bob)

    response = client.get(f"/acme/sensors/traces/?device={first.coredump.device_id}")

    assert [t.pk for t in response.context["page"].items] == [second.pk, first.pk]
    assert "Device dev-1" in response.content.decode()


def test_the_traces_of_an_issue_page_with_cursors(client, bob, crash, monkeypatch):
    from dre.crashes import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    made = [crash() for _ in range(3)]
    client.force_login(bob)

    first = client.get(f"/acme/sensors/traces/?issue={made[0].issue_id}")
    second = client.get("/acme/sensors/traces/" + first.context["older"])

    assert [t.pk for t in first.context["page"].items] == [made[2].pk, made[1].pk]
    assert [t.pk for t in second.context["page"].items] == [made[0].pk]

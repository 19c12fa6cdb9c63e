"""The trace page's analysis panels: stacks, a fault inside the fault handler, the MPU
and the interrupts, rendered from what the symbolicator stored for the diag crashes."""

import re

import pytest

from dre.crashes.models import Issue, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def diag(project, run_on_commit):
    from tests.dre.conftest import send_coredump, store_elf

    run_on_commit(store_elf, project, "diag-an385-O0")

    def send(scenario, **kwargs):
        coredump = run_on_commit(send_coredump, project, "diag-an385-O0", scenario, **kwargs)
        coredump.refresh_from_db()
        return coredump.trace

    return send


def page_of(client, user, trace) -> str:
    client.force_login(user)
    return client.get(f"/acme/sensors/traces/{trace.pk}/").content.decode()


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_thread_deep_in_its_stack_shows_its_use_from_the_sp_and_a_warning(client, bob, diag):
    page = page_of(client, bob, diag("deep_stack"))

    assert "stack 1960 of 2048 bytes in use (96%); peak 1992 (97%)" in page
    assert '<li class="warning stack-warning">96 % of the stack in use at the crash' in page
    text = squeeze(page)
    assert "main 0x20000200 \u2013 0x20000a00 2048 B 0x20000258 1960 B (96%)" in text


def test_a_port_dump_shows_the_high_water_mark_as_not_captured(client, bob, project, run_on_commit):
    from tests.dre.conftest import store_elf
    from tests.firmware_fixtures import FIXTURES

    run_on_commit(store_elf, project, "freertos-an385-O0")
    data = FIXTURES / "freertos-an385-O0" / "task_fault" / "coredump-freertos-port.bin"
    from dre.crashes.models import Coredump
    from dre.crashes.services import coredump_ingest_bytes

    coredump = run_on_commit(
        coredump_ingest_bytes, project, data.read_bytes(), source=Coredump.Source.UPLOAD
    )
    coredump.refresh_from_db()

    page = page_of(client, bob, coredump.trace)

    assert "stack 72 of 512 bytes in use (14%); peak not captured" in page
    assert "stack 0 of" not in page


def test_a_fault_in_the_fault_handler_says_whose_registers_these_are(client, bob, diag):
    page = page_of(client, bob, diag("handler_fault"))

    assert 'id="panel-fault-path"' in page
    assert "The registers on this page are those of a second fault" in page
    text = squeeze(page)
    assert "First fault MemManage (recorded reason 0x9200)" in text
    assert "Its context frame #5 : scenario_handler_fault diag/diag.c:176" in text
    assert "MemManage in thread main, then a fault in the fault handler" in page


def test_fault_path_traces_group_by_the_first_fault_not_by_memcpy(client, bob, diag):
    trace = diag("handler_fault")

    components = trace.grouping["components"]

    assert components[0]["value"] == "fault_path MemManage thread main"
    contributing = [c["value"] for c in components if c["contributes"]][1:]
    assert contributing[0] == "scenario_handler_fault"
    assert "memcpy" not in contributing
    assert Issue.objects.get(pk=trace.issue_id).title.startswith("MemManage in thread main")


def test_the_mpu_panel_marks_the_region_that_refused_the_access(client, bob, diag):
    page = page_of(client, bob, diag("mpu_fault"))

    assert 'id="panel-mpu"' in page
    assert '<tr class=" hit" data-region="6">' in page
    text = squeeze(page)
    assert "6 fault 0x200000a0 32 B \u2013 RO none yes 1 1 1 1" in text
    assert "5 0x00000000 64 KB 0 RO RO no 0 1 0 0" in text
    assert "Write access is refused to all code (read-only (AP))" in page


def test_the_interrupts_panel_lists_pending_and_active_irqs(client, bob, diag):
    page = page_of(client, bob, diag("irq_pending"))

    text = squeeze(page)
    assert "The fault hit an interrupt handler: IRQ 9 (Timer1_IRQHandler)" in text
    assert "IRQ 3 Default_Handler yes yes no 0xc0" in text
    assert "IRQ 7 Default_Handler no yes no 0x00" in text
    assert "IRQ 9 Timer1_IRQHandler yes no yes 0x80" in text
    assert "Active exception when the dump was taken: MemManage; next pending: IRQ 3" in text


def test_a_trace_without_mpu_or_interrupt_data_shows_no_such_panels(client, bob, trace):
    trace.data = {k: v for k, v in trace.data.items() if k not in ("mpu", "interrupts")}
    trace.save(update_fields=["data"])

    page = page_of(client, bob, trace)

    assert 'id="panel-mpu"' not in page
    assert 'id="panel-interrupts"' not in page
    assert 'id="panel-stacks"' in page


def test_the_heap_panel_shows_the_free_list_and_recent_allocations(client, bob, diag):
    page = page_of(client, bob, diag("heap_fault"))

    assert 'id="panel-heap"' in page
    text = squeeze(page)
    assert "3 free blocks, 872 bytes free, largest 552 bytes, fragmentation 37%" in text
    assert "3 allocated blocks" in text
    assert "3 blocks in use, at most 5." in text
    assert "200 B freed sample_buffer_alloc diag/diag.c:" in text
    assert "16 B in use packet_alloc diag/diag.c:" in text


def test_two_traces_of_an_issue_compare_side_by_side(client, bob, project, diag):
    from dre.fleet.services import device_seen

    first = diag("deep_stack", device=device_seen(project, "dev-1"))
    second = diag("deep_stack", device=device_seen(project, "dev-2"))
    assert first.issue_id == second.issue_id
    client.force_login(bob)
    issue_page = client.get(f"/acme/sensors/issues/{first.issue_id}/").content.decode()
    assert 'id="compare-link"' in issue_page

    page = client.get(f"/acme/sensors/issues/{first.issue_id}/compare/").content.decode()

    text = squeeze(page)
    assert f"trace #{first.pk} trace #{second.pk}" in text
    assert "Device dev-1 dev-2" in text
    assert "#0 deep_stack_leaf diag/diag.c:" in text
    assert "Globals that differ" in page
    assert "none: the frames both traces share show the same values" in text
    read = {t.data["variables"] for t in Trace.objects.filter(pk__in=[first.pk, second.pk])}
    assert read == {"read"}  # compared with their variables, read on this first open


def test_comparing_a_trace_of_another_issue_is_not_found(client, bob, diag):
    first = diag("deep_stack")
    other = diag("mpu_fault")
    client.force_login(bob)

    response = client.get(
        f"/acme/sensors/issues/{first.issue_id}/compare/?a={first.pk}&b={other.pk}"
    )

    assert response.status_code == 404

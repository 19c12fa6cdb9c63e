"""An engineer reads the trace page's analysis panels in a real browser: the stacks, a
fault inside the fault handler (and its link to the first fault's frame), the MPU table
with the refusing region marked, and the interrupts."""

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails in CI, and says why
    expect = None

import pytest

from dre.crashes.models import Coredump
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.services import device_seen
from tests.browser.conftest import log_in, screenshot
from tests.dre.conftest import store_elf
from tests.firmware_fixtures import coredump_path

DIAG = "diag-an385-O0"


@pytest.fixture
def diag(project, transactional_db):
    store_elf(project, DIAG)

    def send(scenario, serial="dev-1"):
        coredump = coredump_ingest_bytes(
            project,
            coredump_path(DIAG, scenario).read_bytes(),
            source=Coredump.Source.UPLOAD,
            device=device_seen(project, serial),
        )
        coredump.refresh_from_db()
        return coredump.trace

    return send


def open_trace(page, trace):
    log_in(page, "alice")
    page.goto(f"/acme/sensors/traces/{trace.pk}/")
    expect(page.locator("#analyses")).to_be_visible()


def test_alice_sees_a_thread_at_96_percent_and_jumps_to_its_sp(page, alice, diag):
    open_trace(page, diag("deep_stack"))

    row = page.locator("#panel-stacks tr.warning")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("1960 B (96%)")
    expect(row).to_contain_text("96 % of the stack in use at the crash")
    expect(page.locator("details.thread.crashed span.stack.warning")).to_contain_text("peak 1992")
    row.locator("a.memory-jump").click()
    expect(page.locator("#memory-at")).to_have_value("0x20000258")
    expect(page.locator("#memory-view .byte.target")).to_have_count(1)
    screenshot(page, "analyses-stacks")
    page.console.assert_clean()


def test_alice_is_told_the_registers_are_a_second_faults_and_finds_the_first(page, alice, diag):
    open_trace(page, diag("handler_fault"))

    panel = page.locator("#panel-fault-path")
    expect(panel).to_contain_text("The registers on this page are those of a second fault")
    expect(panel).to_contain_text("MemManage (recorded reason 0x9200)")
    expect(page.locator("h1")).to_contain_text("then a fault in the fault handler")
    panel.locator("a.frame-link").click()
    expect(page.locator("#selected-frame")).to_contain_text("scenario_handler_fault")
    expect(page.locator("li.frame.selected")).to_have_attribute("data-frame", "5")
    screenshot(page, "analyses-fault-path")
    page.console.assert_clean()


def test_alice_reads_the_mpu_table_with_the_refusing_region_marked(page, alice, diag):
    open_trace(page, diag("mpu_fault"))

    table = page.locator("#mpu-regions")
    expect(table.locator("tbody tr")).to_have_count(8)
    expect(table.locator("tr.hit")).to_have_count(1)
    expect(table.locator("tr.hit")).to_have_attribute("data-region", "6")
    expect(page.locator("#mpu-explanation")).to_contain_text("Write access is refused")
    table.locator("tr[data-region='6'] a.memory-jump").click()
    expect(page.locator("#memory-at")).to_have_value("0x200000a0")
    expect(page.locator("#memory-view")).to_contain_text("g_diag_config")
    screenshot(page, "analyses-mpu")
    page.console.assert_clean()


def test_alice_sees_which_interrupt_faulted_and_which_wait(page, alice, diag):
    open_trace(page, diag("irq_pending"))

    expect(page.locator("#irq-context")).to_contain_text("IRQ 9 (Timer1_IRQHandler)")
    rows = page.locator("#irq-table tbody tr")
    expect(rows.filter(has_text="IRQ 3")).to_contain_text("yes")
    expect(page.locator("#irq-table tr.active")).to_have_count(2)  # MemManage and IRQ 9
    expect(page.locator("#mpu-regions tr.hit")).to_have_attribute("data-region", "0")
    screenshot(page, "analyses-interrupts")
    page.console.assert_clean()


def test_alice_reads_the_heap_and_opens_a_free_block_in_memory(page, alice, diag):
    open_trace(page, diag("heap_fault"))

    expect(page.locator("#heap-summary")).to_contain_text("fragmentation 37%")
    expect(page.locator("#heap-allocations tbody tr")).to_have_count(5)
    expect(page.locator("#heap-allocations tbody tr").nth(1)).to_contain_text("freed")
    page.locator("#heap-free-blocks a.memory-jump").first.click()
    expect(page.locator("#memory-view")).to_contain_text("ucHeap")
    screenshot(page, "analyses-heap")
    page.console.assert_clean()


def test_alice_compares_two_traces_of_an_issue_side_by_side(page, alice, diag):
    first = diag("deep_stack", serial="dev-1")
    second = diag("deep_stack", serial="dev-2")
    log_in(page, "alice")
    page.goto(f"/acme/sensors/issues/{first.issue_id}/")

    page.click("#compare-link")

    header = page.locator("#compare-header")
    expect(header).to_contain_text(f"trace #{first.pk}")
    expect(header).to_contain_text(f"trace #{second.pk}")
    expect(header.locator("tr", has_text="Device")).to_contain_text("dev-2")
    expect(page.locator("#compare-threads details.thread-pair")).to_have_count(4)
    expect(page.locator("#compare-threads details.thread-pair").first).to_contain_text(
        "deep_stack_leaf"
    )
    expect(page.locator("#compare-variables")).to_contain_text("none")
    expect(page.locator("#compare-globals tbody")).to_be_visible()
    page.select_option("select[name=a]", str(second.pk))
    page.select_option("select[name=b]", str(first.pk))
    page.click("#compare-pick button[type=submit]")
    columns = page.locator("#compare-header thead th")
    expect(columns.nth(1)).to_have_text(f"trace #{second.pk}")
    expect(columns.nth(2)).to_have_text(f"trace #{first.pk}")
    screenshot(page, "compare")
    page.console.assert_clean()

"""An engineer tells apart issues that share a title: the culprit under each title, the
24-hour sparkline and the spread of versions and boards."""

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails in CI, and says why
    expect = None

import pytest

from dre.crashes.models import Coredump
from dre.crashes.services import coredump_ingest_bytes
from tests.browser.conftest import log_in, screenshot
from tests.dre.conftest import store_elf
from tests.firmware_fixtures import coredump_path

TITLE = "MemManage fault: data access violation in storage_commit"


@pytest.fixture
def freertos_crashes(project, transactional_db):
    """A task fault from three FreeRTOS builds (one issue) and an ISR fault (another), all
    titled alike."""
    for build in ("freertos-an385-O0", "freertos-an386-O0", "freertos-an386-O2"):
        store_elf(project, build)
        data = coredump_path(build, "task_fault").read_bytes()
        coredump_ingest_bytes(project, data, source=Coredump.Source.UPLOAD)
    data = coredump_path("freertos-an386-O0", "isr_fault").read_bytes()
    coredump_ingest_bytes(project, data, source=Coredump.Source.UPLOAD)


def test_alice_tells_two_issues_with_one_title_apart(page, alice, freertos_crashes):
    log_in(page, "alice")

    rows = page.locator("table.issues tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator("a.issue-title").first).to_have_text(TITLE)
    expect(rows.locator("a.issue-title").last).to_have_text(TITLE)
    task = rows.filter(has_text="app_publish_and_commit")
    isr = rows.filter(has_text="rtos_isr_hook")
    expect(task.locator(".culprit")).to_have_text(
        "storage_commit ← app_publish_and_commit ← app_run_scenario"
    )
    expect(isr.locator(".culprit")).to_have_text(
        "storage_commit ← rtos_isr_hook ← Timer1_IRQHandler"
    )
    expect(task.locator(".spread")).to_have_text("1 version · 2 boards")
    expect(isr.locator(".spread")).to_have_text("1 version · 1 board")
    expect(task.locator("svg.sparkline")).to_have_attribute(
        "aria-label", "3 traces in the last 24 hours"
    )
    counts = task.locator("svg.sparkline").get_attribute("data-counts").split(",")
    assert [int(n) for n in counts] == [0] * 23 + [3]  # all of them this hour
    assert task.locator("svg.sparkline path").bounding_box()["height"] == 20
    screenshot(page, "issue-list-culprits")

    task.locator("a.issue-title").click()
    expect(page.locator(".components")).to_contain_text("the thread's entry function")
    expect(page.locator(".components")).to_contain_text("past the thread's entry function")
    screenshot(page, "issue-grouping-entry")
    page.console.assert_clean()

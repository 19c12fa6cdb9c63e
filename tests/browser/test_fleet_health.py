"""A release lead reads fleet health in a real browser: the overview's stability cards
and charts, then one device's page with its timeline and metric charts."""

import re
import time

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails in CI, and says why
    expect = None

from dre.accounts.services import project_key_create
from dre.health.rollups import rollup_dirty_days
from tests.browser.conftest import log_in, screenshot
from tests.builders import event_chunks, heartbeat_info, reboot_info, sdk_event

HOUR_MS = 3_600_000


def report(client, key, serial, *events):
    for chunk in event_chunks(*events):
        response = client.post(
            f"/api/v0/chunks/{serial}",
            chunk,
            content_type="application/octet-stream",
            headers={"Memfault-Project-Key": key},
        )
        assert response.status_code == 202


def test_alice_reads_release_stability_then_one_devices_timeline(
    page, alice, project, client, transactional_db
):
    key = project_key_create(project=project, name="devices")[1]
    now = int(time.time()) // 3600 * 3600
    for serial, version in (("dev-1", "1.0.0"), ("dev-2", "1.1.0")):
        heartbeats = [
            sdk_event(
                1,
                heartbeat_info(
                    {"MemfaultSdkMetric_IntervalMs": HOUR_MS, "battery_soc_pct": 90 - h}
                ),
                software_version=version,
                captured_at=now - h * 3600,
            )
            for h in range(1, 6)
        ]
        report(client, key, serial, *heartbeats)
    report(client, key, "dev-1", sdk_event(2, reboot_info(0x800B), captured_at=now - 7200 - 60))
    rollup_dirty_days()

    log_in(page, "alice")
    page.click("a:has-text('Fleet health')")
    page.wait_for_url(re.compile(r"/health/$"))
    expect(page.locator("[data-testid=release-card]")).to_have_count(2)
    expect(page.locator("[data-testid=release-card]").first).to_contain_text("main 1.1.0")
    expect(page.locator("[data-testid=release-card]").nth(1)).to_contain_text("80.00 %")
    page.wait_for_function("window.Chart && Chart.getChart('chart-crashfree') !== undefined")
    expect(page.locator("table.list").first).to_contain_text("StackOverflow")
    screenshot(page, "health-overview")

    page.click("a:has-text('dev-1')")
    expect(page.locator("[data-testid=serial]")).to_have_text("dev-1")
    expect(page.locator("tr.timeline-reboot")).to_contain_text("StackOverflow (unexpected)")
    expect(page.locator("tr.timeline-heartbeat")).to_have_count(5)
    expect(page.locator("#metric-charts canvas[aria-label=battery_soc_pct]")).to_have_count(1)
    page.wait_for_function(
        "Chart.getChart(document.querySelector('#metric-charts canvas')) !== undefined"
    )
    screenshot(page, "device")

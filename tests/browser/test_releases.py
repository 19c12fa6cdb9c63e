"""Alice follows a staged rollout in the browser: widens it, pauses it, reads its log."""

import requests
from playwright.sync_api import expect

from dre.fleet.services import cohort_get_default
from dre.releases.models import Deployment
from dre.releases.services import artifact_add, deployment_activate, release_get_or_create
from tests.browser.conftest import log_in, screenshot
from tests.dre.releases.conftest import store_payload


def test_alice_widens_and_pauses_a_staged_rollout(page, alice, project, project_key, live_server):
    release = release_get_or_create(project, "main", "2.0.0", notes="Radio fix")
    artifact_add(release, "evt", store_payload(project, b"image"), filename="fw.bin")
    deployment_activate(release, cohort_get_default(project), percent=5, actor=alice)
    for n in range(40):
        requests.get(
            f"{live_server.url}/api/v0/releases/latest",
            params={"device_serial": f"dev-{n}", "hardware_version": "evt",
                    "software_type": "main", "current_version": "1.0.0"},
            headers={"Memfault-Project-Key": project_key},
            timeout=10,
        )  # fmt: skip
    log_in(page, "alice")

    page.click("nav.sections >> text=Releases")
    expect(page.locator("table.releases")).to_contain_text("default 5 %")
    page.click("table.releases >> text=2.0.0")
    row = page.locator("table.deployments tbody tr").first
    expect(row.locator("td.num").first).to_have_text("40")
    screenshot(page, "release-staged")

    row.locator("input[name=rollout_percent]").fill("20")
    row.locator("input[name=reason]").fill("no new crashes")
    row.locator("button[value=widen]").click()
    expect(page.locator(".messages")).to_contain_text("default: active, 20 %")
    page.locator("table.deployments tbody tr").first.locator("button[value=pause]").click()
    expect(page.locator(".state.paused")).to_be_visible()
    expect(page.locator("ul.activity")).to_contain_text("widened to 20 % by alice: no new crashes")
    screenshot(page, "release-paused")

    deployment = Deployment.objects.get()
    assert (deployment.rollout_percent, deployment.status) == (20, "paused")
    page.console.assert_clean()

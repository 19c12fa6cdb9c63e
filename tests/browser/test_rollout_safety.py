"""Alice opens a rollout the rule halted, reads why (both releases' curves and numbers),
and overrides the rule with a reason."""

from playwright.sync_api import expect

from dre.releases import tasks
from dre.releases.models import Deployment
from tests.browser.conftest import log_in, screenshot
from tests.dre.releases.conftest import make_release, rollout  # noqa: F401 (fixtures)


def test_alice_reads_why_a_rollout_halted_and_overrides_it(page, alice, rollout, live_server):  # noqa: F811
    deployment = rollout(old_rate=0.01, new_rate=0.05)
    tasks.evaluate_rollouts()
    log_in(page, "alice")

    page.goto(f"{live_server.url}/acme/sensors/releases/{deployment.release_id}/")
    safety = page.locator(f"#safety-{deployment.pk}")
    expect(safety.locator(".state.halt")).to_be_visible()
    expect(safety.get_by_test_id("decision")).to_contain_text("unexpected reboots per hour are")
    expect(safety).to_contain_text("1.1.0 against 1.0.0 since")
    expect(safety.locator(f"canvas[data-safety='{deployment.pk}']")).to_be_visible()
    screenshot(page, "rollout-halted")

    row = page.locator(f"#deployment-{deployment.pk}")
    row.locator("input[name=reason]").fill("the reboots are a sensor batch, not 1.1.0")
    row.locator("button[value=override]").click()
    expect(page.locator(".messages")).to_contain_text("default: active, 50 %")
    expect(page.locator("ul.activity")).to_contain_text(
        "overridden by alice: the reboots are a sensor batch, not 1.1.0"
    )
    screenshot(page, "rollout-overridden")

    deployment.refresh_from_db()
    assert (deployment.status, deployment.rule_overridden) == (Deployment.Status.ACTIVE, True)
    page.console.assert_clean()

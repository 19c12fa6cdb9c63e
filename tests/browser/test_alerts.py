"""An admin sets up alerts in a real browser: a webhook, a test delivery the receiver
verifies, a rule, her own email subscription; then a new crash reaches the webhook."""

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails in CI, and says why
    expect = None


from dre.alerts.models import NotificationSetting, Webhook
from tests.browser.conftest import log_in, screenshot


def test_alice_adds_a_webhook_tests_it_and_alerts_on_new_issues(
    page, alice, project, crash, receiver
):
    log_in(page, "alice")
    page.click("nav.sections a:has-text('Alerts')")
    expect(page.locator("h1")).to_contain_text("Alerts of")

    page.fill("#webhook-form input[name=name]", "ops")
    page.fill("#webhook-form input[name=url]", receiver.url)
    page.click("#webhook-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Webhook ops")
    receiver.secret = page.locator("#webhook-secret").inner_text()
    assert receiver.secret == Webhook.objects.get().secret

    page.click("#send-test")
    expect(page.locator("#deliveries tbody tr").first).to_contain_text("webhook.test")
    expect(page.locator("#deliveries .state-delivered")).to_have_count(1)
    expect(page.locator("#deliveries tbody tr").first).to_contain_text("#1 200")
    [test] = receiver.requests
    assert test.signature_ok
    screenshot(page, "webhook-deliveries")

    page.click("text=All alerts")
    page.fill("#rule-form input[name=name]", "new crashes")
    page.check("#rule-form input[name=events][value='issue.created']")
    page.check("#rule-form input[name=webhooks]")
    page.click("#rule-form button[type=submit]")
    expect(page.locator("#rules tbody")).to_contain_text("new crashes")
    page.check("#subscription input[name=email]")
    page.click("#subscription button[type=submit]")
    expect(page.locator("#subscription input[name=email]")).to_be_checked()
    assert NotificationSetting.objects.get(user=alice).email
    screenshot(page, "alert-rules")

    crash()
    assert [r.json["type"] for r in receiver.requests] == ["webhook.test", "issue.created"]
    assert all(r.signature_ok for r in receiver.requests)

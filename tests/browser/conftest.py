"""Browser tests: Playwright for Python driving Debian's Chromium against a live dre.

Chromium is the distribution's (/usr/bin/chromium, installed by .ci/run): Playwright's
own browser download cannot run here. Without Chromium or Playwright these tests skip,
except in CI (DRE_REQUIRE_SERVICES=1), where they fail. Every page's console errors
and uncaught exceptions fail the test, and each step saves a screenshot under
test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from dre.crashes.models import Coredump
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.services import device_seen
from tests.conftest import PASSWORD
from tests.dre.conftest import store_elf
from tests.firmware_fixtures import coredump_path

CHROMIUM = os.environ.get("DRE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous code, which Django would refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (requirements-dev.txt)"
    if not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    problem = _missing()
    if problem:
        if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"browser tests are required in CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=shutil.which(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class Console:
    """Errors a page reported: console.error messages and uncaught exceptions."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("dialog", lambda d: self.errors.append(f"dialog opened: {d.message}"))

    def assert_clean(self):
        assert self.errors == [], "the page reported errors"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.console = Console(opened)
    yield opened
    errors = opened.console.errors
    context.close()
    if errors:
        pytest.fail(f"console errors: {errors}")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r"/issues/"))


@pytest.fixture
def crash(project, transactional_db):
    """Send a fixture crash through the real pipeline (tasks run in-process on commit)."""
    store_elf(project)

    def send(scenario="null_write", version="1.0.0", serial="dev-1"):
        data = coredump_path(scenario=scenario).read_bytes().replace(b"1.0.0", version.encode())
        coredump = coredump_ingest_bytes(
            project, data, source=Coredump.Source.UPLOAD, device=device_seen(project, serial)
        )
        coredump.refresh_from_db()
        return coredump.trace

    return send

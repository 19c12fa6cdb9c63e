"""An engineer triages in a real browser: from the issue list down to a frame's locals,
the memory viewer and the disassembly; resolving, and the regression that reopens."""

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails in CI, and says why
    expect = None

from dre.crashes.models import Issue, Trace
from tests.browser.conftest import log_in, screenshot


def test_alice_clicks_from_the_issue_list_down_to_memory_and_disassembly(page, alice, crash):
    trace = crash()
    crash(scenario="div_zero", serial="dev-2")
    log_in(page, "alice")
    expect(page.locator("table.issues tbody tr")).to_have_count(2)
    screenshot(page, "issue-list")

    page.click("a.issue-title:has-text('record_word_store')")
    expect(page.locator("h1")).to_contain_text("record_word_store")
    page.wait_for_function("window.Chart && Chart.getChart('chart-days') !== undefined")
    expect(page.locator(".components li.contributes").first).to_contain_text("fault MemManage")
    screenshot(page, "issue")

    page.click(f"text=open trace #{trace.pk}")
    expect(page.locator("#fault-summary")).to_contain_text("data access violation")
    crashing = page.locator("details.thread.crashed")
    expect(crashing.locator("li.frame").first.locator(".variables")).to_contain_text("word")
    expect(page.locator("#panel-registers tr.register")).to_have_count(19)
    screenshot(page, "trace")

    page.click("details.thread[data-thread='1'] > summary")
    expect(page.locator("details.thread[data-thread='1'] li.frame").first).to_be_visible()
    screenshot(page, "thread")

    frame = crashing.locator("li.frame[data-frame='4']")
    frame.locator("summary").click()
    expect(page.locator("#selected-frame")).to_contain_text("scenario_null_write")
    expect(frame.locator(".variables")).to_contain_text("reading")
    frame.locator("button.toggle").first.click()
    expect(frame.locator(".variables")).to_contain_text("sensor_id")
    expect(page.locator("#panel-registers tr.register.recovered").first).to_be_visible()
    screenshot(page, "frame-locals")

    page.click("button[data-tab='disassembly']")
    expect(page.locator("#panel-disassembly tr.at-pc")).to_have_count(1)
    expect(page.locator("#panel-disassembly tr.source-line").first).to_contain_text("src/")
    screenshot(page, "disassembly")

    crashing.locator("li.frame[data-frame='3'] summary").click()
    counter = crashing.locator("li.frame[data-frame='3'] .node-line:has-text('counter')")
    counter.locator("a:has-text('→ memory')").click()
    expect(page.locator("#memory-at")).to_have_value("0x20000168")
    expect(page.locator("#memory-view .byte.target")).to_have_count(1)
    expect(page.locator("#memory-regions tr.region").first).to_be_visible()
    screenshot(page, "memory")

    page.fill("#memory-at", "0x30000000")
    page.click("#memory-jump button[type=submit]")
    expect(page.locator("#memory-view .byte.missing").first).to_be_visible()

    page.fill("#globals-q", "scheduler")
    page.click("#globals-search button[type=submit]")
    expect(page.locator("#globals-list")).to_contain_text("g_dre_scheduler")
    page.locator("#globals-list button.toggle").first.click()
    expect(page.locator("#globals-list")).to_contain_text("thread_count")
    screenshot(page, "globals")
    page.console.assert_clean()


def test_bob_resolves_in_a_version_and_a_newer_trace_reopens_it(page, bob, crash):
    issue = Issue.objects.get(pk=crash(version="1.0.0").issue_id)
    log_in(page, "bob")
    page.click("a.issue-title")

    page.select_option("select[name=resolution]", "in_version")
    page.fill("input[name=version]", "1.0.1")
    page.click("form.resolve button[type=submit]")
    expect(page.locator(".banner.ok")).to_contain_text("in version 1.0.1")
    screenshot(page, "issue-resolved")

    crash(version="0.9.0")  # old firmware in the field: stays resolved
    page.reload()
    expect(page.locator(".banner.ok")).to_be_visible()
    crash(version="1.0.2")
    page.reload()
    expect(page.locator(".state.regressed")).to_be_visible()
    expect(page.locator("ol.activity")).to_contain_text("a trace from version 1.0.2 arrived")
    screenshot(page, "issue-regressed")
    assert Issue.objects.get(pk=issue.pk).state == "open"
    page.console.assert_clean()


def test_bob_mutes_and_merges_from_the_list(page, bob, crash):
    first = crash().issue_id
    second = crash(scenario="div_zero").issue_id
    log_in(page, "bob")

    page.check("#select-all")
    page.select_option("select[name=action]", "merge")
    page.click("#bulk .bulk button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Merge: 2 issue(s).")
    expect(page.locator("table.issues tbody tr")).to_have_count(1)
    screenshot(page, "issue-list-merged")

    assert Issue.objects.get(pk=second).merged_into_id == first
    page.console.assert_clean()


def test_victor_the_viewer_reads_without_triage_controls(page, victor, crash):
    crash()
    log_in(page, "victor")

    expect(page.locator("#select-all")).to_have_count(0)
    page.click("a.issue-title")
    expect(page.locator("form.resolve")).to_have_count(0)
    expect(page.locator("canvas#chart-days")).to_be_visible()
    page.console.assert_clean()


def test_what_devices_sent_shows_as_text_never_as_markup(page, alice, crash):
    trace = crash()
    evil = '<img src=x onerror="alert(1)">'
    data = trace.data
    data["threads"][1]["name"] = evil
    data["threads"][0]["frames"][0]["function"] = evil
    Trace.objects.filter(pk=trace.pk).update(data=data)
    log_in(page, "alice")

    page.goto(f"/acme/sensors/traces/{trace.pk}/")

    expect(page.locator(".thread-name").nth(1)).to_have_text(evil)
    expect(page.locator("img[src=x]")).to_have_count(0)
    expect(page.locator("#selected-frame")).to_contain_text(re.compile(r"<img"))
    screenshot(page, "escaped")
    page.console.assert_clean()

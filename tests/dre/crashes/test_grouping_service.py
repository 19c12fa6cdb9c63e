"""The grouping service: which issue a trace joins, across builds and grouping upgrades,
with the title and culprit an issue list can tell apart."""

import pytest

from dre.crashes import grouping
from dre.crashes.grouping import algorithm
from dre.crashes.models import Issue, IssueFingerprint
from dre.crashes.services import trace_title
from tests.dre.conftest import send_coredump, store_elf
from tests.firmware_fixtures import BUILDS

pytestmark = pytest.mark.django_db
FREERTOS = [f"freertos-{build}" for build in BUILDS]  # M3 and M4F, -O0 and -O2


@pytest.fixture
def freertos(project, run_on_commit):
    """The four FreeRTOS builds' ELFs; `send(build, scenario)` returns the grouped trace."""
    for build in FREERTOS:
        run_on_commit(store_elf, project, build)

    def send(build, scenario="task_fault"):
        coredump = run_on_commit(send_coredump, project, build, scenario)
        coredump.refresh_from_db()
        return coredump.trace

    return send


def test_one_crash_from_four_builds_is_one_issue_told_apart_by_its_culprit(freertos):
    traces = [freertos(build) for build in FREERTOS]

    issue = Issue.objects.get()
    assert {t.issue_id for t in traces} == {issue.pk}
    assert issue.title == "MemManage fault: data access violation in storage_commit"
    assert issue.culprit == "storage_commit ← app_publish_and_commit ← app_run_scenario"
    assert issue.trace_count == 4
    assert issue.hardware_versions.count() == 2


def test_an_isr_fault_and_a_task_fault_in_one_function_stay_two_issues(freertos):
    task = freertos("freertos-an385-O0", "task_fault")
    isr = freertos("freertos-an386-O0", "isr_fault")

    assert task.issue_id != isr.issue_id
    assert Issue.objects.get(pk=isr.issue_id).culprit == (
        "storage_commit ← rtos_isr_hook ← Timer1_IRQHandler"
    )


def test_a_grouping_upgrade_keeps_sending_traces_to_the_issues_that_exist(freertos, monkeypatch):
    monkeypatch.setattr(algorithm, "DEFAULT_CONFIG", grouping.SECONDARY_CONFIG)
    before = [freertos(build) for build in ("freertos-an385-O0", "freertos-an386-O2")]
    assert before[0].issue_id != before[1].issue_id  # the old config split them
    monkeypatch.undo()

    after = [freertos(build) for build in FREERTOS]

    assert {t.issue_id for t in after} == {before[0].issue_id}
    assert Issue.objects.count() == 2
    assert after[0].grouping["secondary"]["config"] == grouping.SECONDARY_CONFIG
    assert "secondary" not in after[1].grouping  # its new fingerprint now leads there
    configs = IssueFingerprint.objects.filter(issue=before[0].issue_id)
    assert sorted(configs.values_list("grouping_config", flat=True)) == sorted(
        [grouping.SECONDARY_CONFIG, grouping.DEFAULT_CONFIG]
    )


def test_a_title_naming_an_assert_hook_names_the_top_in_app_function():
    data = {
        "title": "Assertion failed in assert_failed",
        "fault": {"kind": "assert", "place": {"function": "assert_failed"}},
        "threads": [
            {
                "crashed": True,
                "frames": [
                    {"pc": 1, "kind": "normal", "function": "assert_failed"},
                    {"pc": 2, "kind": "normal", "function": "i2c_read_reg"},
                ],
            }
        ],
    }

    assert trace_title(data) == "Assertion failed in assert_failed"
    assert trace_title(data, grouping.group(data)) == "Assertion failed in i2c_read_reg"


def test_a_rules_preview_after_an_upgrade_shows_only_what_the_rules_change(freertos):
    from dre.crashes.selectors import grouping_rules_preview

    trace = freertos("freertos-an385-O0")
    trace.__class__.objects.filter(pk=trace.pk).update(fingerprint="grouped-by-an-old-config")

    unchanged = grouping_rules_preview(trace.project, grouping.Rules())
    changed = grouping_rules_preview(trace.project, grouping.Rules.parse("-app:app_*"))

    assert (unchanged.checked, len(unchanged.changed)) == (1, 0)
    assert len(changed.changed) == 1

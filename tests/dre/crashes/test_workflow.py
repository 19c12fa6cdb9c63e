"""Resolving, regressions, muting, merging, comments, grouping rules."""

from datetime import UTC, datetime

import pytest

from dre.crashes.models import (
    Coredump,
    GroupingRules,
    Issue,
    IssueActivity,
    IssueDay,
    IssueDevice,
    IssueVersion,
)
from dre.crashes.services import coredump_ingest_bytes
from dre.crashes.workflow import (
    WorkflowError,
    issue_comment,
    issue_mute,
    issue_reopen,
    issue_resolve,
    issues_bulk,
    issues_merge,
)
from dre.fleet.services import device_seen
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db
Resolution = Issue.Resolution


@pytest.fixture
def crash(project, symbol_file, run_on_commit):
    """Send the null_write crash (or another scenario) as reported by a given version:
    the dump's own software version block, "1.0.0", is rewritten in place."""

    def send(version="1.0.0", scenario="null_write"):
        data = coredump_path(scenario=scenario).read_bytes()
        assert len(version) == 5
        assert data.count(b"1.0.0") == 1
        coredump = run_on_commit(
            coredump_ingest_bytes,
            project,
            data.replace(b"1.0.0", version.encode()),
            source=Coredump.Source.UPLOAD,
        )
        return Issue.objects.get(pk=coredump.trace.issue_id)

    return send


def kinds(issue):
    return list(
        IssueActivity.objects.filter(issue=issue).order_by("id").values_list("kind", flat=True)
    )


def test_a_new_issue_starts_open_with_a_created_entry(crash):
    issue = crash()

    assert issue.state == Issue.State.OPEN
    assert kinds(issue) == ["created"]


def test_resolved_now_a_new_trace_reopens_it_as_regressed(crash, alice):
    issue = crash()
    issue_resolve(issue, actor=alice)

    crash()

    issue.refresh_from_db()
    assert issue.state == Issue.State.OPEN
    assert issue.regressed
    assert kinds(issue) == ["created", "resolved", "regressed"]


def test_resolved_in_a_version_only_a_newer_version_reopens_it(crash, alice):
    issue = crash("1.0.0")
    issue_resolve(issue, actor=alice, resolution=Resolution.IN_VERSION, version="1.0.1")

    crash("0.9.9")  # older firmware still in the field
    crash("1.0.1")  # the fixed version itself
    issue.refresh_from_db()
    assert issue.state == Issue.State.RESOLVED

    crash("1.0.2")
    issue.refresh_from_db()
    assert issue.state == Issue.State.OPEN
    assert issue.regressed
    assert (
        IssueActivity.objects.filter(issue=issue, kind="regressed").get().data["version"] == "1.0.2"
    )


def test_resolved_in_a_version_no_device_runs_yet(crash, alice):
    issue = crash()
    issue_resolve(issue, actor=alice, resolution=Resolution.IN_VERSION, version="2.0.0-rc.1")

    crash()

    issue.refresh_from_db()
    assert issue.state == Issue.State.RESOLVED
    assert issue.resolved_in == "2.0.0-rc.1"


def test_resolved_in_the_next_version_means_newer_than_every_version_seen(crash, alice):
    crash("1.0.0")
    issue = crash("1.2.0")
    issue_resolve(issue, actor=alice, resolution=Resolution.IN_NEXT_VERSION)
    assert issue.resolved_in == "1.2.0"

    crash("1.2.0")
    issue.refresh_from_db()
    assert issue.state == Issue.State.RESOLVED
    crash("1.3.0")
    issue.refresh_from_db()
    assert issue.state == Issue.State.OPEN


def test_a_muted_issue_never_reopens_by_itself(crash, alice):
    issue = crash()
    issue_mute(issue, actor=alice)

    crash()

    issue.refresh_from_db()
    assert issue.state == Issue.State.MUTED
    assert issue.trace_count == 2


def test_resolving_in_a_version_needs_the_version(crash, alice):
    with pytest.raises(WorkflowError, match="needs the version"):
        issue_resolve(crash(), actor=alice, resolution=Resolution.IN_VERSION)


def test_reopening_an_open_issue_is_refused(crash, alice):
    with pytest.raises(WorkflowError, match="cannot be reopened"):
        issue_reopen(crash(), actor=alice)


def test_merging_moves_traces_counts_and_future_traces(crash, alice):
    first = crash()
    second = crash(scenario="div_zero")

    issues_merge(first, [second], actor=alice)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.state == Issue.State.MERGED
    assert second.merged_into == first
    assert first.trace_count == 2
    assert first.traces.count() == 2
    assert sum(IssueDay.objects.filter(issue=first).values_list("trace_count", flat=True)) == 2
    crash(scenario="div_zero")  # a later trace of the absorbed fingerprint
    first.refresh_from_db()
    assert first.trace_count == 3
    assert kinds(second)[-1] == "merged_into"


def test_version_counts_add_up_when_merging(crash, alice):
    first, second = crash(), crash(scenario="undef_instr")
    issues_merge(first, [second], actor=alice)

    rows = IssueVersion.objects.filter(issue=first)
    assert [(r.software_version.version, r.trace_count) for r in rows] == [("1.0.0", 2)]


def test_merging_keeps_the_later_time_a_device_was_seen(crash, alice, project):
    first, second = crash(), crash(scenario="undef_instr")
    device = device_seen(project, "dev-1")
    for issue, month in ((first, 1), (second, 6)):
        seen = datetime(2025, month, 1, tzinfo=UTC)
        IssueDevice.objects.create(issue=issue, device=device, trace_count=1, last_seen=seen)

    issues_merge(first, [second], actor=alice)

    row = IssueDevice.objects.get(issue=first)
    assert (row.trace_count, row.last_seen) == (2, datetime(2025, 6, 1, tzinfo=UTC))
    assert not IssueDevice.objects.filter(issue=second).exists()


def test_bulk_merge_keeps_the_issue_first_seen(crash, alice):
    first, second, third = crash(), crash(scenario="div_zero"), crash(scenario="undef_instr")

    issues_bulk([third, first, second], "merge", actor=alice)

    assert Issue.objects.get(state=Issue.State.OPEN) == first


def test_bulk_resolve_and_unknown_actions(crash, alice):
    issues = [crash(), crash(scenario="div_zero")]
    issues_bulk(issues, "resolve", actor=alice)

    assert set(Issue.objects.values_list("state", flat=True)) == {"resolved"}
    with pytest.raises(WorkflowError, match="unknown action"):
        issues_bulk(issues, "delete", actor=alice)


def test_comments_are_kept_and_logged(crash, bob):
    issue = crash()
    comment = issue_comment(issue, author=bob, text="  Happens after OTA.  ")

    assert comment.text == "Happens after OTA."
    assert kinds(issue)[-1] == "commented"
    with pytest.raises(WorkflowError):
        issue_comment(issue, author=bob, text="   ")


def test_grouping_rules_change_how_new_traces_group(project, crash):
    GroupingRules.objects.create(
        project=project, ignore_functions="record_*\nstorage_*", max_frames=2
    )
    issue = crash()

    trace = issue.traces.get()
    contributing = [c["value"] for c in trace.grouping["components"] if c["contributes"]]
    assert contributing[1:] == ["scenario_null_write", "scenario_run"]
    assert "ignored by rule record_*" in [c["hint"] for c in trace.grouping["components"]]

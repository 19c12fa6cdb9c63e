"""The batch path (symbolicate_batch) gives what one coredump at a time gives.

The same fixture crashes, from the same devices, go through one project one at a time
and through another in batches; the issues, fingerprints, traces, rollups, activity
and alert events must come out the same. Between two halves every issue is resolved,
so the second half regresses them in both.
"""

from collections import Counter

import pytest

from dre.accounts.services import project_create
from dre.alerts.models import AlertEvent
from dre.crashes.models import Coredump, Issue, IssueActivity, Trace
from dre.crashes.services import coredump_symbolicate, coredumps_symbolicate
from dre.crashes.workflow import issue_resolve
from dre.fleet.services import device_seen
from dre.symbols.models import SymbolFile
from tests.dre.conftest import send_coredump, store_elf
from tests.firmware_fixtures import scenarios

pytestmark = pytest.mark.django_db

# The firmware's own scheduler on both boards, FreeRTOS and Zephyr, optimized and not.
BUILDS = ("an385-O0", "an386-O2", "freertos-an385-O2", "zephyr-an386-O0")


def crashes() -> list[tuple[str, str]]:
    return [(build, scenario) for build in BUILDS for scenario in scenarios(build)]


def with_symbols(project, run_on_commit):
    for build in BUILDS:
        run_on_commit(
            store_elf, project, build, software_type="dre-testfw", software_version=f"1.0.{build}"
        )
    assert set(SymbolFile.objects.filter(project=project).values_list("state", flat=True)) == {
        SymbolFile.State.READY
    }


def stored(project, half: int) -> list[int]:
    """Every fixture crash, stored (not processed), from four devices in turn."""
    ids = []
    for number, (build, scenario) in enumerate(crashes()):
        device = device_seen(project, f"unit-{(number + half) % 4}")
        ids.append(send_coredump(project, build, scenario, device=device).pk)
    return ids


def process(project, run_on_commit, one_at_a_time: bool) -> None:
    for half in (0, 1):
        ids = stored(project, half)
        if one_at_a_time:
            for coredump_id in ids:
                run_on_commit(coredump_symbolicate, coredump_id)
        else:
            # Two batches per half: the second finds the first one's issues.
            run_on_commit(coredumps_symbolicate, ids[: len(ids) // 3])
            run_on_commit(coredumps_symbolicate, ids[len(ids) // 3 :])
        if half == 0:
            for issue in Issue.objects.filter(project=project):
                run_on_commit(issue_resolve, issue)


def outcome(project) -> dict:
    """What grouping made, without ids and times (the two projects' differ)."""
    issues = Issue.objects.filter(project=project).prefetch_related(
        "fingerprints", "days", "hours", "issueversion_set__software_version"
    )
    traces = Trace.objects.filter(project=project).select_related("coredump", "issue")
    return {
        "states": Counter(Coredump.objects.filter(project=project).values_list("state", flat=True)),
        "issues": sorted(describe(issue) for issue in issues),
        "traces": sorted(
            (t.fingerprint, t.title, repr(t.grouping), t.issue.title, t.coredump.device.serial)
            for t in traces
        ),
        "events": sorted(event_summary(e) for e in AlertEvent.objects.filter(project=project)),
    }


def describe(issue: Issue) -> tuple:
    devices = issue.issuedevice_set.select_related("device")
    traces = Trace.objects.filter(issue=issue).select_related("coredump")
    received = [t.coredump.received for t in traces]
    return (
        issue.title,
        issue.culprit,
        issue.state,
        issue.trace_count,
        issue.device_count,
        issue.regressed_at is not None,
        (issue.first_seen, issue.last_seen) == (min(received), max(received)),
        tuple(sorted(f.fingerprint for f in issue.fingerprints.all())),
        tuple(
            sorted((str(v.software_version), v.trace_count) for v in issue.issueversion_set.all())
        ),
        sum(d.trace_count for d in issue.days.all()),
        sum(h.trace_count for h in issue.hours.all()),
        tuple(sorted((d.device.serial, d.trace_count) for d in devices)),
        tuple(sorted(IssueActivity.objects.filter(issue=issue).values_list("kind", flat=True))),
    )


def event_summary(event: AlertEvent) -> tuple:
    issue = event.data["issue"]
    return (
        event.type,
        issue["title"],
        issue["state"],
        event.data["software_versions"],
        len(event.data["cohort_ids"]),
        # An occurrence is re-published with fresh counts: its last counts are the issue's.
        (issue["trace_count"], issue["device_count"], event.data["devices_last_hour"])
        if event.type == "issue.occurred"
        else None,
    )


def test_it_groups_a_batch_exactly_as_one_coredump_at_a_time(acme, project, run_on_commit):
    batched = project_create(organization=acme, slug="batched", name="Batched")
    for target in (project, batched):
        with_symbols(target, run_on_commit)

    process(project, run_on_commit, one_at_a_time=True)
    process(batched, run_on_commit, one_at_a_time=False)

    one, batch = outcome(project), outcome(batched)
    assert one["states"] == {Coredump.State.GROUPED: 2 * len(crashes())}
    assert len(one["issues"]) >= 10
    assert any(issue[2] == Issue.State.OPEN and issue[5] for issue in one["issues"])
    assert batch == one


def test_it_leaves_a_coredump_another_worker_holds_and_does_the_rest(
    project, symbol_file, run_on_commit
):
    from datetime import timedelta

    from django.utils import timezone

    ids = [send_coredump(project).pk for _ in range(3)]
    Coredump.objects.filter(pk=ids[1]).update(
        state=Coredump.State.PROCESSING,
        attempts=1,
        lease_expires=timezone.now() + timedelta(minutes=1),
    )

    run_on_commit(coredumps_symbolicate, ids)

    states = dict(Coredump.objects.values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["grouped", "processing", "grouped"]
    assert Issue.objects.get().trace_count == 2


def test_an_unexpected_error_fails_only_its_own_coredump_after_its_attempts(
    project, symbol_file, run_on_commit, monkeypatch
):
    import symbolicator

    ids = [send_coredump(project, scenario=s).pk for s in ("null_write", "div_zero", "assert")]
    real = symbolicator.symbolicate

    def explode_on_div_zero(parsed, index, **options):
        trace = real(parsed, index, **options)
        if "divide by zero" in trace.to_dict().get("title", ""):
            raise MemoryError("too big")
        return trace

    monkeypatch.setattr("dre.crashes.symbolicate.symbolicator.symbolicate", explode_on_div_zero)
    run_on_commit(coredumps_symbolicate, ids)

    # Each retry (queued on commit, run here) is a batch of one.
    rows = {c.pk: c for c in Coredump.objects.all()}
    assert [rows[pk].state for pk in ids] == ["grouped", "failed", "grouped"]
    assert rows[ids[1]].error == "failed 3 times; last error: MemoryError: too big"
    assert Issue.objects.count() == 2


def test_the_batch_task_processes_what_it_is_given(project, symbol_file, run_on_commit):
    from dre.crashes.tasks import symbolicate_batch

    ids = [send_coredump(project, scenario=s).pk for s in ("null_write", "div_zero")]

    run_on_commit(symbolicate_batch.delay, ids)

    assert set(Coredump.objects.values_list("state", flat=True)) == {"grouped"}
    assert Issue.objects.count() == 2


def test_a_batch_costs_a_bounded_number_of_statements(
    project, symbol_file, run_on_commit, django_assert_max_num_queries
):
    # The first crash of a release finds its versions and symbols; the worker then
    # remembers the versions (once committed).
    run_on_commit(coredumps_symbolicate, [send_coredump(project).pk])
    ids = [send_coredump(project, scenario=s).pk for s in ("null_write", "div_zero") * 10]

    # Claim, load, finish (4), group (about 20) and the alert events' rows: not per coredump.
    with django_assert_max_num_queries(60):
        run_on_commit(coredumps_symbolicate, ids)

    assert Issue.objects.get(title__contains="divide").trace_count == 10

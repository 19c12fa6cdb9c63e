"""Trace events: named from the ELF of their build, PC/LR symbolicated, grouped into
issues of kind trace_event (reason + code location + status code)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dre.crashes.models import Issue, IssueActivity, IssueDay, IssueDevice
from dre.crashes.workflow import issue_resolve
from dre.diagnostics.models import State, TraceEvent
from dre.diagnostics.resolution import diagnostics_sweep_waiting
from dre.fleet.services import device_seen
from tests.builders import sdk_event
from tests.dre.diagnostics.conftest import (
    APP_LOOP_LR,
    BUILD_ID,
    DAY_START,
    FMT_TRACE,
    SENSOR_POLL_PC,
    trace_event_info,
)

pytestmark = pytest.mark.django_db
SENSOR_TIMEOUT = 2  # kMfltTraceReasonUser_sensor_timeout in firmware.c


def trace_event(reason=SENSOR_TIMEOUT, captured_at=DAY_START, **info):
    info.setdefault("pc", SENSOR_POLL_PC)
    info.setdefault("lr", APP_LOOP_LR)
    return sdk_event(
        2,
        trace_event_info(reason, **info),
        build_id_prefix=BUILD_ID[:6],
        captured_at=captured_at,
    )


def test_it_names_symbolicates_and_groups_a_trace_event(send, upload_elf):
    upload_elf()
    send(trace_event())

    event = TraceEvent.objects.get()
    assert event.state == State.RESOLVED
    assert event.reason_name == "sensor_timeout"
    assert event.pc_location["function"] == "sensor_poll"
    assert event.pc_location["file"].endswith("firmware.c")
    assert event.pc_location["status"] == "symbolicated"
    assert event.lr_location["function"] == "app_loop"
    issue = Issue.objects.get()
    assert issue.kind == Issue.Kind.TRACE_EVENT
    assert issue.title == "Trace event sensor_timeout in sensor_poll"
    assert event.issue == issue
    assert (issue.trace_count, issue.device_count) == (1, 1)


def test_a_trace_event_waits_for_its_elf_and_is_grouped_when_it_arrives(send, upload_elf):
    send(trace_event())
    assert TraceEvent.objects.get().state == State.AWAITING_SYMBOLS
    assert not Issue.objects.exists()

    upload_elf()

    event = TraceEvent.objects.get()
    assert (event.state, event.reason_name) == (State.RESOLVED, "sensor_timeout")
    assert Issue.objects.get().kind == Issue.Kind.TRACE_EVENT


def test_a_trace_event_without_build_id_is_matched_by_software_version(send, upload_elf):
    upload_elf(software_type="main", software_version="1.0.0")
    send(sdk_event(2, trace_event_info(1, pc=SENSOR_POLL_PC), captured_at=DAY_START))

    assert TraceEvent.objects.get().reason_name == "MemfaultCli_Test"


def test_the_same_reason_at_the_same_place_is_one_issue_across_devices(send, upload_elf):
    upload_elf()
    send(trace_event(), trace_event(captured_at=DAY_START + 60), serial="dev-1")
    send(trace_event(captured_at=DAY_START + 120), serial="dev-2")

    issue = Issue.objects.get()
    assert (issue.trace_count, issue.device_count) == (3, 2)
    assert IssueDevice.objects.filter(issue=issue).count() == 2
    assert sum(IssueDay.objects.filter(issue=issue).values_list("trace_count", flat=True)) == 3


def test_another_place_or_status_code_is_another_issue(send, upload_elf):
    upload_elf()
    send(
        trace_event(),
        trace_event(pc=0x420, lr=0x43F),  # inside app_loop, called from Reset_Handler
        trace_event(status=-5),
        trace_event(status=-5, captured_at=DAY_START + 1),
        trace_event(status=-7),
    )

    titles = sorted(Issue.objects.values_list("title", "trace_count"))
    assert titles == [
        ("Trace event sensor_timeout (status -5) in sensor_poll", 2),
        ("Trace event sensor_timeout (status -7) in sensor_poll", 1),
        ("Trace event sensor_timeout in app_loop", 1),
        ("Trace event sensor_timeout in sensor_poll", 1),
    ]


def test_the_grouping_says_why_it_grouped_like_this(send, upload_elf):
    upload_elf()
    send(trace_event())

    components = TraceEvent.objects.get().grouping["components"]
    hints = {c["kind"] + ":" + c["value"]: (c["contributes"], c["hint"]) for c in components}
    assert hints["function:sensor_poll"] == (True, "where the trace event was recorded (PC)")
    assert hints["function:app_loop"] == (False, "ignored: the PC names the place")
    assert hints["status_code:none"][0] is False


def test_an_address_without_a_symbol_groups_by_the_caller_or_the_address(send, upload_elf):
    upload_elf()
    send(trace_event(pc=0x10000000, lr=APP_LOOP_LR), trace_event(pc=0x10000000, lr=None))

    titles = sorted(Issue.objects.values_list("title", flat=True))
    assert titles == ["Trace event sensor_timeout", "Trace event sensor_timeout in app_loop"]
    unsymbolicated = TraceEvent.objects.filter(lr=None).get()
    assert unsymbolicated.pc_location == {"address": 0x10000000, "status": "missing_symbol"}
    assert unsymbolicated.grouping["components"][1]["value"] == "0x10000000"


def test_a_reason_the_elf_does_not_name_keeps_its_number(send, upload_elf):
    upload_elf()
    send(trace_event(reason=9))

    assert Issue.objects.get().title == "Trace event reason 9 in sensor_poll"


def test_a_compact_log_is_rendered_through_log_fmt(send, upload_elf):
    upload_elf()
    send(trace_event(compact=[FMT_TRACE, 1]))

    log = TraceEvent.objects.get().log
    assert (log["status"], log["text"]) == ("formatted", "Example Trace Event. Num Args 1")
    assert log["file"] == "../../components/demo/src/memfault_demo_cli_trace_event.c"


def test_a_preformatted_log_is_kept_as_sent(send, upload_elf):
    upload_elf()
    send(trace_event(log=b"sensor imu stuck"))

    assert TraceEvent.objects.get().log == {"status": "preformatted", "text": "sensor imu stuck"}


def test_a_resolved_trace_event_issue_regresses_on_a_newer_occurrence(send, upload_elf):
    upload_elf()
    send(trace_event())
    issue = Issue.objects.get()
    issue_resolve(issue)

    send(trace_event(captured_at=None))

    issue.refresh_from_db()
    assert issue.state == Issue.State.OPEN
    regressed = IssueActivity.objects.get(issue=issue, kind=IssueActivity.Kind.REGRESSED)
    assert regressed.data["trace_event"] == TraceEvent.objects.latest("pk").pk


def test_an_out_of_range_address_is_refused_and_kept_in_the_event_log(send):
    from dre.ingest.models import Event

    send(trace_event(pc=1 << 40))

    assert not TraceEvent.objects.exists()
    assert Event.objects.get().kind == Event.Kind.TRACE


def test_the_sweeper_resolves_a_trace_event_whose_task_was_lost(upload_elf, project):
    upload_elf()
    TraceEvent.objects.create(  # as if the request committed while the broker was down
        project=project,
        device=device_seen(project, "dev-9"),
        time=timezone.now(),
        received=timezone.now() - timedelta(minutes=10),
        build_id_prefix=BUILD_ID[:6].hex(),
        source_event_id=999,
        reason=SENSOR_TIMEOUT,
        pc=SENSOR_POLL_PC,
        state=State.AWAITING_SYMBOLS,
    )

    assert diagnostics_sweep_waiting() == 1
    assert TraceEvent.objects.get().state == State.RESOLVED
    assert diagnostics_sweep_waiting() == 0

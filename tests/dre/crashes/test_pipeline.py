"""ingest -> symbolicate -> group, with tasks run as a committed request would run them."""

import hashlib
import os
from datetime import timedelta

import lz4.frame
import pytest
from django.utils import timezone

from dre.crashes.models import Coredump, Issue, Trace
from dre.crashes.services import (
    CoredumpUnreadable,
    coredump_bytes,
    coredump_receive,
    coredump_symbolicate,
    coredumps_requeue_stuck,
    trace_group,
)
from dre.fleet.services import device_seen
from tests.dre.conftest import send_coredump, store_elf
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db


def test_a_coredump_with_its_elf_present_becomes_a_grouped_trace(
    project, symbol_file, run_on_commit
):
    coredump = run_on_commit(send_coredump, project)

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED
    assert coredump.symbol_file == symbol_file
    assert coredump.build_id == symbol_file.build_id
    assert str(coredump.software_version) == "dre-testfw 1.0.0"
    assert (
        coredump.trace.issue.title == "MemManage fault: data access violation in record_word_store"
    )


def test_the_trace_keeps_every_thread_with_frames_and_registers_and_variables_for_later(
    project, symbol_file, run_on_commit
):
    coredump = run_on_commit(send_coredump, project)
    data = Trace.objects.get(coredump=coredump).data

    assert [t["name"] for t in data["threads"]] == ["main", "sensor", "comms", "logger"]
    first = data["threads"][0]["frames"][0]
    assert first["function"] == "record_word_store"
    assert first["registers"]["pc"] == first["pc"]
    assert (
        data["variables"] == "deferred"
    )  # read on first open: tests/dre/crashes/test_variables.py


def test_a_coredump_waits_for_its_elf_and_is_processed_when_it_arrives(project, run_on_commit):
    coredump = run_on_commit(send_coredump, project)
    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.AWAITING_SYMBOLS

    run_on_commit(store_elf, project)

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED


def test_a_build_id_never_matches_another_build_of_the_same_version(project, run_on_commit):
    run_on_commit(store_elf, project, "an385-O2")
    coredump = run_on_commit(send_coredump, project, "an385-O0")

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.AWAITING_SYMBOLS


def test_a_corrupt_coredump_is_kept_and_fails_with_the_reason(project, symbol_file, run_on_commit):
    data = bytearray(b"CORE\x02\x00\x00\x00\x40\x00\x00\x00") + bytes(52)
    from dre.crashes.services import coredump_ingest_bytes

    coredump = run_on_commit(
        coredump_ingest_bytes, project, bytes(data), source=Coredump.Source.UPLOAD
    )

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.FAILED
    assert "could not parse the coredump" in coredump.error
    assert coredump_bytes(coredump) == bytes(data)  # kept for later processing


def test_a_truncated_coredump_is_processed_with_a_warning(
    project, symbol_file, run_on_commit, settings
):
    from dre.crashes.services import coredump_ingest_bytes
    from tests.firmware_fixtures import coredump_path

    data = coredump_path().read_bytes()
    coredump = run_on_commit(
        coredump_ingest_bytes, project, data[: len(data) - 1000], source=Coredump.Source.UPLOAD
    )

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED
    assert any("header says" in w for w in coredump.trace.data["warnings"])


def test_traces_with_the_same_fingerprint_share_an_issue(
    project, symbol_file, run_on_commit, settings
):
    settings.DEDUP_WINDOW_SECONDS = 0  # the same bytes again count as a new crash here
    first = device_seen(project, "unit-1")
    second = device_seen(project, "unit-2")
    run_on_commit(send_coredump, project, device=first)
    run_on_commit(send_coredump, project, device=second)
    run_on_commit(send_coredump, project, device=second)

    issue = Issue.objects.get()
    assert issue.trace_count == 3
    assert issue.device_count == 2
    assert [str(v) for v in issue.software_versions.all()] == ["dre-testfw 1.0.0"]


def test_different_crashes_make_different_issues(project, symbol_file, run_on_commit):
    for scenario in ("null_write", "div_zero", "undef_instr"):
        run_on_commit(send_coredump, project, scenario=scenario)

    assert sorted(Issue.objects.values_list("title", flat=True)) == [
        "MemManage fault: data access violation in record_word_store",
        "UsageFault: divide by zero in calc_ratio",
        "UsageFault: undefined instruction in firmware_apply_patch",
    ]


def test_grouping_the_same_trace_twice_counts_it_once(project, symbol_file, run_on_commit):
    coredump = run_on_commit(send_coredump, project)

    trace_group(coredump.trace.pk)

    assert Issue.objects.get().trace_count == 1


def test_the_sweeper_requeues_coredumps_whose_state_has_not_moved(
    project, symbol_file, settings, run_on_commit
):
    coredump = send_coredump(project)  # queued on commit, which never happens in this test
    old = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS + 1)
    Coredump.objects.filter(pk=coredump.pk).update(
        state=Coredump.State.PROCESSING, state_changed=old
    )

    assert run_on_commit(coredumps_requeue_stuck) == 1

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.GROUPED


def test_the_sweeper_leaves_recent_work_alone(project, symbol_file):
    coredump = send_coredump(project)
    Coredump.objects.filter(pk=coredump.pk).update(state=Coredump.State.PROCESSING)

    assert coredumps_requeue_stuck() == 0


def lz4_row(project, raw: bytes) -> Coredump:
    return Coredump.objects.create(
        project=project, raw=raw, encoding=Coredump.Encoding.LZ4, size=len(raw), md5="",
        source=Coredump.Source.UPLOAD,
    )  # fmt: skip


def test_a_row_whose_lz4_frame_is_damaged_fails_with_the_reason_and_keeps_its_bytes(project):
    damaged = lz4.frame.compress(b"CORE" * 100)[:-20]
    coredump = lz4_row(project, damaged)

    coredump_symbolicate(coredump.pk)

    coredump.refresh_from_db()
    assert coredump.state == Coredump.State.FAILED
    assert "LZ4 frame" in coredump.error
    assert bytes(Coredump.objects.values_list("raw", flat=True).get()) == damaged


def test_an_lz4_row_never_expands_past_the_coredump_limit(project, settings):
    settings.MAX_COREDUMP_BYTES = 1000
    coredump = lz4_row(project, lz4.frame.compress(bytes(1001)))

    with pytest.raises(CoredumpUnreadable, match="holds 1001 bytes; at most 1000"):
        coredump_bytes(coredump)


# Hashed in slices below 2,048 bytes up to 64 kB, in one go above (_hexdigest says why).
@pytest.mark.parametrize("size", [2047, 2048, 8084, 64 * 1024, 64 * 1024 + 1, 300_000])
def test_a_received_coredump_records_the_hashes_of_the_bytes_as_sent(project, size):
    data = (coredump_path().read_bytes() + os.urandom(size))[:size]

    coredump = Coredump.objects.get(
        pk=coredump_receive(project, data, source=Coredump.Source.UPLOAD)
    )

    assert coredump.size == size
    assert coredump.md5 == hashlib.md5(data).hexdigest()
    assert coredump.content_hash == hashlib.sha256(data).hexdigest()
    assert coredump_bytes(coredump) == data

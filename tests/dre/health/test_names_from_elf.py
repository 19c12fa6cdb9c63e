"""Positional heartbeats get names, types and scale from the ELF of their exact build."""

from pathlib import Path

import pytest

from dre import blobs
from dre.health.models import HeartbeatInterval, Metric
from dre.symbols.services import symbol_file_ingest
from symbolicator import ElfImage
from tests.builders import heartbeat_info, sdk_event
from tests.dre.health.conftest import DAY_START

pytestmark = pytest.mark.django_db
ELF = (Path(__file__).parents[2] / "fixtures" / "heartbeat-metadata" / "metrics.elf").read_bytes()
BUILD_ID = ElfImage(ELF).build_id
HEARTBEAT_SESSION = 1  # kMfltMetricsSessionKey_heartbeat in metrics.c
VALUES = [3_600_000, 0, 1, 1, 87, 4250, -5]


def upload_elf(project, run_on_commit):
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), ELF)
    return run_on_commit(symbol_file_ingest, project, stored, name="metrics.elf")


def positional(values=VALUES, **keys):
    keys.setdefault("build_id_prefix", BUILD_ID[:6])
    return sdk_event(1, heartbeat_info(values, HEARTBEAT_SESSION), captured_at=DAY_START, **keys)


def test_it_names_a_positional_heartbeat_when_its_elf_is_there(send, project, run_on_commit):
    upload_elf(project, run_on_commit)
    send(positional())

    interval = HeartbeatInterval.objects.get()
    assert interval.state == HeartbeatInterval.State.RESOLVED
    assert interval.session == "heartbeat"
    assert interval.values == {
        "MemfaultSdkMetric_IntervalMs": 3_600_000,
        "MemfaultSdkMetric_UnexpectedRebootCount": 0,
        "operational_hours": 1,
        "operational_crashfree_hours": 1,
        "battery_soc_pct": 87,
        "cpu_usage_pct": 42.5,
        "board_temperature": -5,
    }
    assert interval.duration_ms == 3_600_000


def test_a_heartbeat_waits_for_its_elf_and_is_named_when_it_arrives(send, project, run_on_commit):
    send(positional())
    assert HeartbeatInterval.objects.get().state == HeartbeatInterval.State.AWAITING_SYMBOLS

    upload_elf(project, run_on_commit)

    assert HeartbeatInterval.objects.get().values["cpu_usage_pct"] == 42.5


def test_the_registry_takes_type_and_scale_from_the_elf(send, project, run_on_commit):
    upload_elf(project, run_on_commit)
    send(positional())

    cpu = Metric.objects.get(project=project, key="cpu_usage_pct")
    assert (cpu.type, cpu.scale) == (Metric.Type.UNSIGNED, 100.0)
    assert Metric.objects.get(key="MemfaultSdkMetric_IntervalMs").type == Metric.Type.TIMER
    assert Metric.objects.get(key="board_temperature").type == Metric.Type.SIGNED


def test_a_heartbeat_without_build_id_is_matched_by_software_version(send, project, run_on_commit):
    stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), ELF)
    run_on_commit(
        symbol_file_ingest,
        project,
        stored,
        name="metrics.elf",
        software_type="main",
        software_version="1.0.0",
    )
    send(positional(build_id_prefix=None))

    assert HeartbeatInterval.objects.get().state == HeartbeatInterval.State.RESOLVED


def test_a_heartbeat_whose_values_do_not_fit_the_elf_is_kept_unresolved_with_a_reason(
    send, project, run_on_commit
):
    upload_elf(project, run_on_commit)
    send(positional(values=[1, 2, 3]))

    interval = HeartbeatInterval.objects.get()
    assert interval.state == HeartbeatInterval.State.UNRESOLVED
    assert interval.error == "the ELF names 7 values for session 1, the heartbeat sent 3"
    assert interval.positional == [1, 2, 3]


def test_the_device_timeline_names_a_trace_events_reason_from_the_elf(
    client, alice, send, project, run_on_commit
):
    trace_event = sdk_event(2, {6: 1, 2: 0x8000401}, build_id_prefix=BUILD_ID[:6])
    send(trace_event)
    client.force_login(alice)
    waiting = client.get("/acme/sensors/devices/dev-1/").content.decode()
    assert "Trace event reason 1 (waiting for the ELF)" in waiting

    upload_elf(project, run_on_commit)

    # The title: the PC is outside metrics.elf, so no function names the place.
    assert "Trace event bad_packet<" in client.get("/acme/sensors/devices/dev-1/").content.decode()

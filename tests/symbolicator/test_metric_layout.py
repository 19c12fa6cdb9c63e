"""Heartbeat metric names, types and scale from the ELF (memfault-elf-metadata.md).

The fixture is built from tests/fixtures/heartbeat-metadata/metrics.c by its build.sh,
which also records what GDB prints for the key table (gdb_keys.txt)."""

import re
import struct
from pathlib import Path

import pytest

from symbolicator import ElfError, ElfImage, read_metric_layout

FIXTURE = Path(__file__).parents[1] / "fixtures" / "heartbeat-metadata"
ELF = (FIXTURE / "metrics.elf").read_bytes()
TYPES = {"Unsigned": "unsigned", "Signed": "signed", "Timer": "timer", "String": "string"}


def gdb_rows() -> list[dict]:
    text = (FIXTURE / "gdb_keys.txt").read_text()
    pattern = (
        r"\{key = \{_impl = (\d+)\}, type = kMemfaultMetricType_(\w+), min = (\d+), "
        r"range = (\d+), session_key = kMfltMetricsSessionKey_(\w+), scale_value = (\d+)\}"
    )
    return [
        {
            "index": int(i),
            "type": TYPES[t],
            "min": int(m),
            "range": int(r),
            "session": s,
            "scale": int(sc),
        }
        for i, t, m, r, s, sc in re.findall(pattern, text)
    ]


def test_it_reads_the_sessions_from_the_session_enum():
    assert read_metric_layout(ELF).sessions == {0: "cli", 1: "heartbeat"}


def test_it_agrees_with_gdb_on_every_row_of_the_key_table():
    layout = read_metric_layout(ELF)
    rows = gdb_rows()

    assert len(rows) == len(layout.metrics) == 10
    for metric, row in zip(sorted(layout.metrics, key=lambda m: m.index), rows, strict=True):
        assert (metric.index, metric.type, metric.session, metric.scale, metric.range) == (
            row["index"],
            row["type"],
            row["session"],
            row["scale"],
            row["range"],
        )
        assert metric.minimum % (1 << 32) == row["min"]


def test_it_orders_a_sessions_values_by_metric_index():
    layout = read_metric_layout(ELF)

    names = [m.name for m in layout.session_metrics(1)]
    assert names == [
        "MemfaultSdkMetric_IntervalMs",
        "MemfaultSdkMetric_UnexpectedRebootCount",
        "operational_hours",
        "operational_crashfree_hours",
        "battery_soc_pct",
        "cpu_usage_pct",
        "board_temperature",
    ]
    assert [m.name for m in layout.session_metrics(0)] == [
        "MemfaultSdkMetric_IntervalMs",
        "operational_crashes",
        "cmd_name",
    ]


def test_it_reads_the_scale_and_a_signed_minimum():
    metrics = {m.name: m for m in read_metric_layout(ELF).metrics}

    assert metrics["cpu_usage_pct"].scale == 100
    assert metrics["board_temperature"].minimum == -40


def test_the_table_rows_are_24_bytes_with_the_documented_offsets():
    """sMemfaultMetricKVPair: key @0, type @4, min @8, range @12, session @16, scale @20."""
    rodata = next(s for s in ElfImage(ELF).read_only_sections if s.name == ".rodata")
    row5 = struct.unpack_from("<6I", rodata.data, 5 * 24)
    assert row5 == (5, 0, 0, 10000, 1, 100)


def test_it_reads_the_user_trace_reasons():
    assert read_metric_layout(ELF).trace_reasons == {
        0: "Unknown",
        1: "bad_packet",
        2: "MemfaultCli_Test",
    }


def test_an_elf_without_the_sdk_gives_an_empty_layout():
    elf = (Path(__file__).parents[1] / "fixtures" / "an385-O0" / "firmware.elf").read_bytes()
    layout = read_metric_layout(elf)
    assert (layout.sessions, layout.metrics) == ({}, [])


def test_bytes_that_are_no_elf_raise_elf_error():
    with pytest.raises(ElfError):
        read_metric_layout(b"not an elf at all")

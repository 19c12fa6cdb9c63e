"""The fleet fixture (tests/fixtures/an385_fleet): its ELF carries the SDK's metadata as
binutils reads it, and its chunks carry, byte for byte in the SDK's wire format, what the
firmware says it sent (memfault-formats.md 2.1-2.5, memfault-elf-metadata.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import cbor2
import pytest

from dre.ingest import wire
from symbolicator import ElfImage, read_metric_layout
from tests.firmware import fleet_capture
from tests.firmware_fixtures import (
    fleet_chunks,
    fleet_console,
    fleet_elf_path,
    fleet_expected,
)

LOG_FMT_ADDRESS = 0xF0000000
KEY_TABLE_ROW = 24  # sizeof(sMemfaultMetricKVPair)
U32 = 0xFFFFFFFF

SESSIONS = ["cli", "heartbeat"]
# (session, key, type, min, max, scale) in MfltMetricsIndex order, as fleet/metrics.def.
METRICS = [
    ("heartbeat", "MemfaultSdkMetric_IntervalMs", 2, 0, 0, 1),
    ("heartbeat", "MemfaultSdkMetric_UnexpectedRebootCount", 0, 0, 0, 1),
    ("heartbeat", "connectivity_connected_time_ms", 2, 0, 0, 1),
    ("heartbeat", "connectivity_expected_time_ms", 2, 0, 0, 1),
    ("heartbeat", "operational_hours", 0, 0, 0, 1),
    ("heartbeat", "operational_crashfree_hours", 0, 0, 0, 1),
    ("heartbeat", "battery_discharge_duration_ms", 2, 0, 0, 1),
    ("heartbeat", "battery_soc_pct_drop", 0, 0, 100, 1),
    ("heartbeat", "battery_soc_pct", 0, 0, 100, 1),
    ("heartbeat", "MemfaultSDKMetric_log_recorded_lines", 0, 0, 0, 1),
    ("heartbeat", "MemfaultSDKMetric_log_dropped_lines", 0, 0, 0, 1),
    ("heartbeat", "uptime_s", 0, 0, 0, 1),
    ("cli", "MemfaultSdkMetric_IntervalMs", 2, 0, 0, 1),
    ("cli", "operational_crashes", 0, 0, 0, 1),
    ("cli", "cmd_name", 3, 0, 0, 1),
    ("cli", "cmd_exit_code", 1, -128, 127, 1),
    ("heartbeat", "cpu_usage_pct", 0, 0, 10000, 100),
    ("heartbeat", "board_temperature_c", 1, -40, 125, 1),
    ("heartbeat", "sensor_reads", 0, 0, 0, 1),
    ("heartbeat", "sensor_last_error", 1, -1000, 0, 1),
]
TRACE_REASONS = [
    "Unknown",
    "sensor_timeout",
    "bad_packet",
    "flash_retry",
    "MemfaultCli_Test",
    "NumReasons",
]
TYPE_NAMES = {0: "unsigned", 1: "signed", 2: "timer", 3: "string"}


def binutil(name: str) -> str:
    """arm-none-eabi-readelf / -objdump: the reading the ELF must survive. CI installs them."""
    path = shutil.which(f"arm-none-eabi-{name}")
    if path:
        return path
    if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"arm-none-eabi-{name} is missing: apt-get install binutils-arm-none-eabi")
    pytest.skip(f"arm-none-eabi-{name} is not installed")


def run(name: str, *args: str) -> str:
    command = [binutil(name), *args, str(fleet_elf_path())]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def objdump_bytes(*args: str) -> tuple[int, bytes]:
    """`objdump -s` output as (first address, bytes)."""
    rows = re.findall(
        r"^ ([0-9a-f]{4,8}) ((?:[0-9a-f]{2,8} ){1,4})", run("objdump", "-s", *args), re.M
    )
    data = b"".join(bytes.fromhex(words.replace(" ", "")) for _, words in rows)
    return int(rows[0][0], 16), data


def log_fmt_section() -> bytes:
    start, data = objdump_bytes("-j", "log_fmt")
    assert start == LOG_FMT_ADDRESS
    return data


def enumerations() -> dict[str, list[tuple[str, int]]]:
    """Every named DWARF enumeration type and its enumerators, from `readelf -wi`."""
    enums: dict[str, list[tuple[str, int]]] = {}
    current = None
    name_of = re.compile(r"DW_AT_name\s*:.*?([A-Za-z_]\w*)\s*$")
    for line in run("readelf", "--debug-dump=info").splitlines():
        if "(DW_TAG_" in line:
            tag = line.split("(")[-1].rstrip(")")
            current = tag if tag in ("DW_TAG_enumeration_type", "DW_TAG_enumerator") else None
            if tag == "DW_TAG_enumeration_type":
                enum = None
        elif current == "DW_TAG_enumeration_type" and (match := name_of.search(line)):
            enum = match.group(1)
            fresh = enum not in enums
            enums.setdefault(enum, [])
        elif current == "DW_TAG_enumerator" and enum and fresh:
            if match := name_of.search(line):
                enums[enum].append([match.group(1), None])
            elif "DW_AT_const_value" in line:
                enums[enum][-1][1] = int(line.split(":")[-1])
    return {name: [tuple(e) for e in values] for name, values in enums.items()}


def test_it_keeps_log_fmt_at_0xf0000000_and_never_loads_it():
    section = re.search(
        r"\] log_fmt\s+(\w+)\s+([0-9a-f]{8}) \w+ \w+ \w+ +(\w*) ", run("readelf", "-S", "-W")
    )
    assert section.group(1) == "PROGBITS"
    assert int(section.group(2), 16) == LOG_FMT_ADDRESS
    assert "A" not in section.group(3)  # not SHF_ALLOC
    segments = run("readelf", "-l", "-W").split("Section to Segment mapping:")[1]
    assert "log_fmt" not in segments


def test_the_log_fmt_section_starts_with_its_header():
    data = log_fmt_section()
    assert data[:4] == b"LOGf"
    assert int.from_bytes(data[4:8], "little") == 1


def compact_logs() -> list[dict]:
    events = fleet_expected()["events"]
    lines = [line for e in events if e["kind"] == "logs" for line in e["lines"]]
    traces = [e["log"] for e in events if e["kind"] == "trace" and "log" in e]
    return [line for line in lines if line["kind"] == "compact"] + traces


def printf_arguments(format_text: str) -> int:
    return len(re.findall(r"%(?!%)[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l)?[diouxXcsp]", format_text))


def test_every_compact_log_id_is_the_offset_of_its_entry():
    data = log_fmt_section()
    logs = compact_logs()
    assert len({log["format_id"] for log in logs}) == 5  # "applying gain" is lost in a crash
    for log in logs:
        entry = data[log["format_id"] :].split(b"\0")[0].decode()
        nargs = printf_arguments(log["format"])
        assert entry == f"{nargs};{log['file']};{log['line']};{log['format']}"


def test_every_log_fmt_entry_names_its_argument_count_file_and_line():
    entries = [e.decode() for e in log_fmt_section()[8:].split(b"\0") if e]

    assert len(entries) == 6  # one per compact-log call site in fleet/
    for entry in entries:
        nargs, file, line, format_text = entry.split(";", 3)
        assert int(nargs) == printf_arguments(format_text)
        assert file.startswith("fleet/")
        assert int(line) > 0


def test_the_enums_are_named_and_numbered_as_the_sdk_does():
    enums = enumerations()

    sessions = [f"kMfltMetricsSessionKey_{s}" for s in [*SESSIONS, "COUNT"]]
    assert enums["MfltMetricSessionIndex"] == [(name, i) for i, name in enumerate(sessions)]
    metrics = [f"kMfltMetricsIndex_{session}__{key}" for session, key, *_ in METRICS]
    assert enums["MfltMetricsIndex"] == [(name, i) for i, name in enumerate(metrics)]
    reasons = [f"kMfltTraceReasonUser_{r}" for r in TRACE_REASONS]
    assert enums["MfltTraceReasonUser"] == [(name, i) for i, name in enumerate(reasons)]


def test_the_key_table_holds_one_row_per_metric():
    symbol = re.search(
        r"([0-9a-f]{8}) +(\d+) OBJECT +LOCAL .* s_memfault_heartbeat_keys$",
        run("readelf", "-s", "-W"),
        re.M,
    )
    address, size = int(symbol.group(1), 16), int(symbol.group(2))
    assert size == KEY_TABLE_ROW * len(METRICS)
    start, data = objdump_bytes(
        f"--start-address={address:#x}", f"--stop-address={address + size:#x}"
    )
    assert start == address

    for index, (session, _, kind, minimum, maximum, scale) in enumerate(METRICS):
        # Six little-endian words; the two enums are 1 byte (arm-none-eabi's short enums),
        # the padding after them zero.
        row = [
            int.from_bytes(data[index * 24 + o : index * 24 + o + 4], "little")
            for o in range(0, 24, 4)
        ]
        expected = [
            index,
            kind,
            minimum & U32,
            (maximum - minimum) & U32,
            SESSIONS.index(session),
            scale,
        ]
        assert row == expected, METRICS[index][1]


def test_dre_reads_the_layout_binutils_reads():
    layout = read_metric_layout(fleet_elf_path().read_bytes())

    assert layout.sessions == dict(enumerate(SESSIONS))
    assert [(m.session, m.name, m.type, m.scale) for m in layout.metrics] == [
        (session, key, TYPE_NAMES[kind], scale) for session, key, kind, _, _, scale in METRICS
    ]
    assert layout.trace_reasons[2] == "bad_packet"


def test_the_compressed_elf_is_the_same_build_with_the_same_layout():
    compressed = fleet_elf_path(compressed=True)
    sections = subprocess.run(
        [binutil("readelf"), "-S", "-W", str(compressed)], capture_output=True, text=True
    ).stdout
    assert re.search(r"\.debug_info .* C ", sections)  # SHF_COMPRESSED
    plain = fleet_elf_path().read_bytes()
    assert ElfImage(compressed.read_bytes()).build_id == ElfImage(plain).build_id
    assert read_metric_layout(compressed.read_bytes()) == read_metric_layout(plain)


def messages() -> list[wire.Message]:
    result = wire.reassemble(fleet_chunks(), max_message_length=65536)
    assert all(outcome.ok for outcome in result.outcomes)
    return [wire.parse_message(raw, max_payload_size=65536) for raw in result.messages]


def test_it_sends_single_and_multi_chunk_messages_of_at_most_80_bytes():
    chunks = fleet_chunks()

    assert len(chunks) == fleet_expected()["chunk_count"] == 32
    assert max(len(chunk) for chunk in chunks) == 80
    assert {chunk[0] for chunk in chunks} == {0x08, 0x48, 0xC0, 0x80}


def test_its_chunks_are_the_ones_the_sdks_rules_make():
    chunks = fleet_chunks()
    result = wire.reassemble(chunks, max_message_length=65536)
    remade = [c for raw in result.messages for c in wire.encode_chunks(raw, chunk_size=80)]
    assert remade == chunks


def test_its_cbor_is_the_shortest_definite_form_the_sdks_encoder_writes():
    # cbor2 keeps map order and writes integers and lengths in their shortest form, so
    # any longer-than-needed head or indefinite length would not survive the round trip.
    for message in messages():
        assert cbor2.dumps(cbor2.loads(message.payload)) == message.payload


def sent_events() -> list[tuple[int, wire.Event]]:
    return [(m.type, e) for m in messages() for e in wire.decode_events(m.payload)]


def expected_events() -> list[dict]:
    return [e for e in fleet_expected()["events"] if e["kind"] != "reboot_marked"]


def test_every_event_carries_the_envelope_the_firmware_meant():
    build_id = bytes.fromhex(fleet_expected()["build_id"])
    pairs = list(zip(sent_events(), expected_events(), strict=True))

    for (_, event), expected in pairs:
        assert event.schema_version == 1
        assert event.captured_at == expected["time"]
        assert event.software_type == expected["software_type"] == "dre-fleetfw"
        assert event.software_version == expected["software_version"] == "2.4.0"
        assert event.hardware_version == expected["hardware_version"] == "mps2-an385"
        assert event.build_id_prefix == build_id[:6]
        assert event.device_serial is None


def check_heartbeat(event: wire.Event, expected: dict) -> None:
    assert event.type == wire.EventType.HEARTBEAT
    assert event.info.session_index == SESSIONS.index(expected["session"])
    assert event.info.positional_metrics == list(expected["values"].values())
    names = [key for session, key, *_ in METRICS if session == expected["session"]]
    assert list(expected["values"]) == names


def check_reboot(event: wire.Event, expected: dict) -> None:
    assert isinstance(event.info, wire.RebootEvent)
    assert event.info.reason == expected["reason"]
    assert (event.info.pc or 0, event.info.lr or 0) == (expected["pc"], expected["lr"])
    assert event.info.coredump_saved is False


def check_trace(event: wire.Event, expected: dict) -> None:
    assert isinstance(event.info, wire.TraceEvent)
    assert event.info.user_reason == TRACE_REASONS.index(expected["reason"])
    assert (event.info.pc, event.info.lr) == (expected["pc"], expected["lr"])
    assert event.info.status_code == expected.get("status_code")
    log = expected.get("log")
    if log:
        assert event.info.compact_log[0] == log["format_id"]
        assert len(event.info.compact_log) == 1 + log["nargs"]
    else:
        assert event.info.compact_log is None


def check_logs(message_type: int, event: wire.Event, expected: dict) -> None:
    assert message_type == wire.MessageType.LOG
    timestamped = "time" in expected["lines"][0]
    assert event.type == (wire.EventType.LOGS_TIMESTAMPED if timestamped else wire.EventType.LOGS)
    for line, want in zip(event.info.lines, expected["lines"], strict=True):
        assert line.level == want["level"]
        assert line.timestamp == want.get("time")
        if want["kind"] == "compact":
            assert cbor2.loads(line.message)[0] == want["format_id"]
        else:
            assert line.message == want["text"]


def check_cdr(message_type: int, event: wire.Event, expected: dict) -> None:
    assert message_type == wire.MessageType.CDR
    assert event.type == 5
    assert event.info.duration_ms == expected["duration_ms"]
    assert event.info.mimetypes == expected["mimetypes"] == ["text/csv"]
    assert event.info.reason == expected["reason"]
    assert event.info.data == expected["data"].encode()


def test_every_event_decodes_to_what_the_firmware_meant():
    for (message_type, event), expected in zip(sent_events(), expected_events(), strict=True):
        if expected["kind"] in ("logs", "cdr"):
            {"logs": check_logs, "cdr": check_cdr}[expected["kind"]](message_type, event, expected)
            continue
        assert message_type == wire.MessageType.EVENT
        {"heartbeat": check_heartbeat, "reboot": check_reboot, "trace": check_trace}[
            expected["kind"]
        ](event, expected)


def test_the_run_covers_every_kind_of_event():
    kinds = [e["kind"] for e in expected_events()]
    sessions = [e["session"] for e in expected_events() if e["kind"] == "heartbeat"]
    reasons = [e["reason"] for e in expected_events() if e["kind"] == "reboot"]

    assert kinds.count("trace") == 4
    assert kinds.count("logs") == 5
    assert kinds.count("cdr") == 1
    assert sessions.count("heartbeat") == 5
    assert sessions.count("cli") == 3
    assert reasons == [0x0007, 0x0003, 0x8001, 0x9300]


def test_compact_log_arguments_go_as_signed_32_bit_integers_like_the_sdks():
    flash_retry = next(e for _, e in sent_events() if getattr(e.info, "user_reason", 0) == 3)
    assert flash_retry.info.compact_log[1:] == [0xDEADBEEF - (1 << 32), 2]


def test_a_rerun_under_qemu_prints_the_same_console():
    if not shutil.which("qemu-system-arm"):
        if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
            pytest.fail("qemu-system-arm is missing: apt-get install qemu-system-arm")
        pytest.skip("qemu-system-arm is not installed")
    console = fleet_capture.run(fleet_elf_path(), fleet_expected()["machine"])
    assert console == fleet_console()

"""What dre should show for the fleet fixture (tests/fixtures/an385_fleet), worked out from
the firmware's own EXPECT lines, never from dre's decoding. Shared by the end-to-end tests
through the test client (tests/dre/health) and through a live server and worker
(tests/integration)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.firmware_fixtures import fleet_events

# Scale per metric in the ELF's key table (tests/firmware/test_fleet_fixture.py reads it
# with objdump); dre shows value / scale.
SCALES = {"cpu_usage_pct": 100}
# eMemfaultRebootReason (memfault-formats.md 1.9): name, and whether Memfault counts it
# as unexpected.
REBOOT_REASONS = {
    0x0007: ("PowerOnReset", False),
    0x0003: ("FirmwareUpdate", False),
    0x8001: ("Assert", True),
    0x9300: ("UsageFault", True),
}
METRIC_TYPES = {
    "MemfaultSdkMetric_IntervalMs": "timer",
    "cpu_usage_pct": "unsigned",
    "board_temperature_c": "signed",
    "cmd_name": "string",
    "operational_crashes": "unsigned",
}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def shown(name: str, value):
    """A value as dre shows it: scaled by the key table, null kept as "no value"."""
    if value is None or name not in SCALES:
        return value
    return value / SCALES[name]


def heartbeats() -> dict[datetime, tuple[str, dict]]:
    """Interval end -> (session name, values by name) for every heartbeat and session."""
    return {
        at(event["time"]): (
            event["session"],
            {name: shown(name, value) for name, value in event["values"].items()},
        )
        for event in fleet_events("heartbeat")
    }


def reboots() -> list[tuple[datetime, str, bool, int | None, int | None]]:
    """(time, reason name, unexpected, pc, lr) in device order; pc/lr None when not sent."""
    return [
        (at(e["time"]), *REBOOT_REASONS[e["reason"]], e["pc"] or None, e["lr"] or None)
        for e in fleet_events("reboot")
    ]


def trace_events() -> list[tuple[datetime, str, int, int, int | None]]:
    """(time, reason name, pc, lr, status code) in device order."""
    return [
        (at(e["time"]), e["reason"], e["pc"], e["lr"], e.get("status_code"))
        for e in fleet_events("trace")
    ]


def trace_event_titles() -> list[str]:
    """The title dre gives each trace event's issue: reason, status code, and the function
    the firmware says the PC was in (README, "Trace events, logs and recordings")."""
    titles = []
    for e in fleet_events("trace"):
        status = f" (status {e['status_code']})" if e.get("status_code") is not None else ""
        titles.append(f"Trace event {e['reason']}{status} in {e['function']}")
    return titles


def log_lines() -> list[dict]:
    """Every log line the device sent, in order (compact ones with `format_id`; `text` is
    printf's rendering on the device)."""
    return [line for event in fleet_events("logs") for line in event["lines"]]


def recordings() -> list[dict]:
    """Custom data recordings: duration_ms, mimetypes, reason, data (text)."""
    return fleet_events("cdr")


def stability() -> dict:
    """The stability sums over the whole run, as the rollups define them (dre/health/
    rollups.py): every interval is a session, crashed when its SDK counter says so
    (MemfaultSdkMetric_UnexpectedRebootCount, or a session's operational_crashes);
    hours from operational_hours / operational_crashfree_hours of the heartbeat session."""
    events = fleet_events("heartbeat")
    crashed = [
        e
        for e in events
        if (e["values"].get("MemfaultSdkMetric_UnexpectedRebootCount") or 0)
        + (e["values"].get("operational_crashes") or 0)
    ]
    beats = [e["values"] for e in events if e["session"] == "heartbeat"]
    return {
        "sessions": len(events),
        "crashed_sessions": len(crashed),
        "operational_hours": sum(v["operational_hours"] for v in beats),
        "crashfree_hours": sum(v["operational_crashfree_hours"] for v in beats),
        "unexpected_reboots": sum(1 for r in reboots() if r[2]),
        "expected_reboots": sum(1 for r in reboots() if not r[2]),
    }

"""Paths of the committed firmware fixtures (see tests/fixtures/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BUILDS = ["an385-O0", "an385-O2", "an386-O0", "an386-O2"]


def elf_path(build: str = "an385-O0") -> Path:
    return FIXTURES / build / "firmware.elf"


def coredump_path(build: str = "an385-O0", scenario: str = "null_write") -> Path:
    return FIXTURES / build / scenario / "coredump.bin"


def scenarios(build: str) -> list[str]:
    return sorted(p.parent.name for p in (FIXTURES / build).glob("*/coredump.bin"))


# The fleet firmware's run (tests/firmware/fleet/, "Fleet firmware" in
# tests/firmware/README.md): chunks as a device exports them, and what each one meant.
FLEET = FIXTURES / "an385_fleet"
FLEET_SERIAL = "fleet-an385-1"  # any serial: the firmware does not send one (key 7)


def fleet_elf_path(*, compressed: bool = False) -> Path:
    """The ELF; `compressed`: the same with zlib-compressed debug sections, as CI uploads
    the SDK example's."""
    return FLEET / ("firmware-compressed.elf" if compressed else "firmware.elf")


def fleet_console() -> str:
    return (FLEET / "console.txt").read_text()


def fleet_chunks() -> list[bytes]:
    """Every chunk of the run, in the order the device exported them (post them in order)."""
    from dre.ingest import wire

    return wire.chunks_from_console(fleet_console())


def fleet_expected() -> dict:
    return json.loads((FLEET / "expected.json").read_text())


def fleet_events(kind: str, **match) -> list[dict]:
    """The EXPECT objects of one kind ("reboot", "trace", "heartbeat", "logs",
    "reboot_marked"), in order, optionally filtered by fields: fleet_events("heartbeat",
    session="cli")."""
    return [
        event
        for event in fleet_expected()["events"]
        if event["kind"] == kind and all(event.get(k) == v for k, v in match.items())
    ]

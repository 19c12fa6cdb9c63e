"""Paths of the committed firmware fixtures (see tests/fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BUILDS = ["an385-O0", "an385-O2", "an386-O0", "an386-O2"]


def elf_path(build: str = "an385-O0") -> Path:
    return FIXTURES / build / "firmware.elf"


def coredump_path(build: str = "an385-O0", scenario: str = "null_write") -> Path:
    return FIXTURES / build / scenario / "coredump.bin"


def scenarios(build: str) -> list[str]:
    return sorted(p.parent.name for p in (FIXTURES / build).glob("*/coredump.bin"))

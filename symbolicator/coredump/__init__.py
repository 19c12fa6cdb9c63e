"""Coredump formats. `parse_coredump` recognizes the format from the bytes."""

from symbolicator.coredump.memfault import is_memfault_coredump, parse_memfault_coredump
from symbolicator.coredump.model import Coredump, MemoryRegion
from symbolicator.coredump.zephyr import (
    is_zephyr_coredump,
    is_zephyr_flash,
    is_zephyr_log,
    parse_zephyr_coredump,
    parse_zephyr_flash,
    parse_zephyr_log,
)
from symbolicator.errors import CoredumpFormatError

__all__ = ["Coredump", "CoredumpFormatError", "MemoryRegion", "detect_format", "parse_coredump"]

# Checked in order: the binary formats by their magic first, so that memory
# inside a binary dump that happens to hold "#CD:BEGIN#" is not taken for a log.
FORMATS = [
    ("memfault", is_memfault_coredump, parse_memfault_coredump),
    ("zephyr", is_zephyr_coredump, parse_zephyr_coredump),
    ("zephyr-flash", is_zephyr_flash, parse_zephyr_flash),
    ("zephyr-log", is_zephyr_log, parse_zephyr_log),
]


def detect_format(data: bytes) -> str | None:
    """Name the coredump format of `data`, or None when it is none we know."""
    return next((name for name, matches, _ in FORMATS if matches(data)), None)


def parse_coredump(data: bytes) -> Coredump:
    for _, matches, parse in FORMATS:
        if matches(data):
            return parse(data)
    raise CoredumpFormatError(
        f"unrecognized coredump format (first bytes {data[:8].hex(' ') or 'none'})"
    )

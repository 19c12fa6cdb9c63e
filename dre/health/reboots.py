"""Reboot reason codes: the SDK's eMemfaultRebootReason table (memfault-formats.md §1.9).

Codes below 0x8000 are expected resets and codes from 0x8000 up unexpected, as the SDK
splits them, except Unknown (0), which Memfault counts as a crash for crash-free hours: a
device that cannot say why it rebooted is not assumed to have rebooted on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.reasons import reason_name

FIRST_UNEXPECTED = 0x8000


@dataclass(frozen=True)
class RebootReason:
    code: int
    name: str
    unexpected: bool


def reboot_reason(code: int) -> RebootReason:
    """Name a reason code as traces name it (one table, symbolicator.reasons) and classify it."""
    return RebootReason(code, reason_name(code), code == 0 or code >= FIRST_UNEXPECTED)

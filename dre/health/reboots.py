"""Reboot reason codes: the SDK's eMemfaultRebootReason table (memfault-formats.md §1.9).

Codes below 0x8000 are expected resets and codes from 0x8000 up unexpected, as the SDK
splits them, except Unknown (0), which Memfault counts as a crash for crash-free hours: a
device that cannot say why it rebooted is not assumed to have rebooted on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPECTED_BASE = 0x1000  # kMfltRebootReason_ExpectedBase; user reasons 0x1001..0x10FF
UNEXPECTED_BASE = 0xA000  # kMfltRebootReason_UnexpectedBase; user reasons 0xA001..0xA0FF
FIRST_UNEXPECTED = 0x8000

NAMES = {
    0x0000: "Unknown",
    0x0001: "UserShutdown",
    0x0002: "UserReset",
    0x0003: "FirmwareUpdate",
    0x0004: "LowPower",
    0x0005: "DebuggerHalted",
    0x0006: "ButtonReset",
    0x0007: "PowerOnReset",
    0x0008: "SoftwareReset",
    0x0009: "DeepSleep",
    0x000A: "PinReset",
    0x000B: "SelfTest",
    0x8000: "UnknownError",
    0x8001: "Assert",
    0x8002: "WatchdogDeprecated",
    0x8003: "BrownOutReset",
    0x8004: "Nmi",
    0x8005: "HardwareWatchdog",
    0x8006: "SoftwareWatchdog",
    0x8007: "ClockFailure",
    0x8008: "KernelPanic",
    0x8009: "FirmwareUpdateError",
    0x800A: "OutOfMemory",
    0x800B: "StackOverflow",
    0x800C: "TaskWatchdog",
    0x9100: "BusFault",
    0x9101: "BusFault.IBUSERR",
    0x9102: "BusFault.PRECISERR",
    0x9103: "BusFault.IMPRECISERR",
    0x9104: "BusFault.UNSTKERR",
    0x9105: "BusFault.STKERR",
    0x9106: "BusFault.LSPERR",
    0x9107: "BusFault.BFARVALID",
    0x9200: "MemFault",
    0x9201: "MemFault.IACCVIOL",
    0x9202: "MemFault.DACCVIOL",
    0x9203: "MemFault.MUNSTKERR",
    0x9204: "MemFault.MSTKERR",
    0x9205: "MemFault.MLSPERR",
    0x9206: "MemFault.MMARVALID",
    0x9300: "UsageFault",
    0x9301: "UsageFault.UNDEFINSTR",
    0x9302: "UsageFault.INVSTATE",
    0x9303: "UsageFault.INVPC",
    0x9304: "UsageFault.NOCP",
    0x9305: "UsageFault.UNALIGNED",
    0x9306: "UsageFault.DIVBYZERO",
    0x9400: "HardFault",
    0x9401: "Lockup",
    0x9402: "SecurityViolation",
    0x9403: "ParityError",
    0x9404: "Temperature",
    0x9405: "Hardware",
}


@dataclass(frozen=True)
class RebootReason:
    code: int
    name: str
    unexpected: bool


def reboot_reason(code: int) -> RebootReason:
    """Name and classify a reason code; codes outside the table keep their number."""
    return RebootReason(code, _name(code), code == 0 or code >= FIRST_UNEXPECTED)


def _name(code: int) -> str:
    if code in NAMES:
        return NAMES[code]
    if EXPECTED_BASE < code < EXPECTED_BASE + 0x100:
        return f"UserExpected{code - EXPECTED_BASE}"
    if UNEXPECTED_BASE < code < UNEXPECTED_BASE + 0x100:
        return f"UserUnexpected{code - UNEXPECTED_BASE}"
    return f"0x{code:04X}"

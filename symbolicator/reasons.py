"""Memfault trace reason codes (eMemfaultRebootReason, memfault-formats.md 1.9)."""

from __future__ import annotations

REASONS = {
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
    0x9101: "BusFault (IBUSERR)",
    0x9102: "BusFault (PRECISERR)",
    0x9103: "BusFault (IMPRECISERR)",
    0x9104: "BusFault (UNSTKERR)",
    0x9105: "BusFault (STKERR)",
    0x9106: "BusFault (LSPERR)",
    0x9107: "BusFault (BFARVALID)",
    0x9200: "MemManage",
    0x9201: "MemManage (IACCVIOL)",
    0x9202: "MemManage (DACCVIOL)",
    0x9203: "MemManage (MUNSTKERR)",
    0x9204: "MemManage (MSTKERR)",
    0x9205: "MemManage (MLSPERR)",
    0x9206: "MemManage (MMARVALID)",
    0x9300: "UsageFault",
    0x9301: "UsageFault (UNDEFINSTR)",
    0x9302: "UsageFault (INVSTATE)",
    0x9303: "UsageFault (INVPC)",
    0x9304: "UsageFault (NOCP)",
    0x9305: "UsageFault (UNALIGNED)",
    0x9306: "UsageFault (DIVBYZERO)",
    0x9400: "HardFault",
    0x9401: "Lockup",
    0x9402: "SecurityViolation",
    0x9403: "ParityError",
    0x9404: "Temperature",
    0x9405: "Hardware",
}
EXPECTED_USER_BASE = 0x1000
UNEXPECTED_USER_BASE = 0xA000


def reason_name(code: int | None) -> str:
    if code is None:
        return "Crash"
    if code in REASONS:
        return REASONS[code]
    if EXPECTED_USER_BASE < code < EXPECTED_USER_BASE + 0x100:
        return f"User reset 0x{code:04X}"
    if UNEXPECTED_USER_BASE < code < UNEXPECTED_USER_BASE + 0x100:
        return f"User error 0x{code:04X}"
    return f"Reason 0x{code:04X}"


def is_expected(code: int) -> bool:
    """Expected resets (shutdowns, updates) are not crashes (memfault-formats.md 1.9)."""
    return 0 < code < 0x8000

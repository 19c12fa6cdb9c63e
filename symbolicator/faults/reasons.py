"""What the firmware itself said about the crash: Memfault trace reasons, Zephyr reasons.

Memfault's names come from symbolicator.reasons (eMemfaultRebootReason,
memfault-formats.md 1.9); this module adds what fault analysis needs: the
category, and for the Arm fault sub-codes (0x9101..0x9306) the CFSR bit each
one stands for. Zephyr's `k_fatal_error_reason` (cortex-m-unwinding.md 6.4)
is carried by Zephyr coredumps as `extra["zephyr_reason"]`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from symbolicator.coredump.zephyr import REASON_NAMES as ZEPHYR_REASONS
from symbolicator.reasons import reason_name

ASSERT = 0x8001
STACK_OVERFLOW = 0x800B
LOCKUP = 0x9401
WATCHDOGS = {0x8002, 0x8005, 0x8006, 0x800C}

# Sub-codes as documented (memfault-formats.md 1.9): 0x91nn BusFault, 0x92nn
# MemManage, 0x93nn UsageFault; nn counts the CFSR bits in order.
_SUB_CODE_BITS = {
    0x91: ("IBUSERR", "PRECISERR", "IMPRECISERR", "UNSTKERR", "STKERR", "LSPERR", "BFARVALID"),
    0x92: ("IACCVIOL", "DACCVIOL", "MUNSTKERR", "MSTKERR", "MLSPERR", "MMARVALID"),
    0x93: ("UNDEFINSTR", "INVSTATE", "INVPC", "NOCP", "UNALIGNED", "DIVBYZERO"),
}


@dataclass(frozen=True)
class TraceReason:
    code: int
    name: str
    category: str  # expected, unexpected, fault, user_expected, user_unexpected, unknown
    fault_bit: str | None = None  # CMSIS CFSR bit a fault sub-code stands for

    def to_dict(self) -> dict:
        return asdict(self)


def trace_reason_info(code: int) -> TraceReason:
    return TraceReason(code, reason_name(code), _category(code), _fault_bit(code))


def _category(code: int) -> str:
    # eMemfaultRebootReason ranges (memfault-formats.md 1.9).
    if code < 0x1000:
        return "expected" if code else "unknown"
    if code < 0x1100:
        return "user_expected"
    if 0x9000 <= code < 0xA000:
        return "fault"
    if 0x8000 <= code < 0x9000:
        return "unexpected"
    if 0xA000 <= code < 0xA100:
        return "user_unexpected"
    return "unknown"


def _fault_bit(code: int) -> str | None:
    bits = _SUB_CODE_BITS.get(code >> 8, ())
    number = code & 0xFF
    return bits[number - 1] if 1 <= number <= len(bits) else None


# Names come from the coredump parser (REASON_NAMES); since Zephyr 3.3 the Arm codes
# start at K_ERR_ARCH_START.
ZEPHYR_ARCH_START = 16

# The CMSIS fault bit each Arm-specific Zephyr reason stands for: Zephyr's
# fault handler picks the code from that bit (arch/arm/core/cortex_m/fault.c).
# The GENERIC codes (16, 22, 29, 37) name no bit.
ZEPHYR_FAULT_BITS = {
    17: "MSTKERR",
    18: "MUNSTKERR",
    19: "DACCVIOL",
    20: "IACCVIOL",
    21: "MLSPERR",
    23: "STKERR",
    24: "UNSTKERR",
    25: "PRECISERR",
    26: "IMPRECISERR",
    27: "IBUSERR",
    28: "LSPERR",
    30: "DIVBYZERO",
    31: "UNALIGNED",
    32: "STKOF",
    33: "NOCP",
    34: "INVPC",
    35: "INVSTATE",
    36: "UNDEFINSTR",
    38: "INVEP",
    39: "INVIS",
    40: "INVER",
    41: "AUVIOL",
    42: "INVTRAN",
    43: "LSPERR",
    44: "LSERR",
}
ZEPHYR_STACK_OVERFLOWS = {2, 17, 23, 32}  # stack check, MemManage/BusFault stacking, STKOF
ZEPHYR_ARCH_CODES_SINCE = (3, 3)  # older releases numbered the Arm codes differently


@dataclass(frozen=True)
class ZephyrReason:
    code: int
    name: str
    fault_bit: str | None = None  # CMSIS fault bit an Arm-specific code stands for

    def to_dict(self) -> dict:
        return asdict(self)


def zephyr_reason_info(code: int, version: tuple[int, ...] | None = None) -> ZephyrReason:
    """The reason's name; codes from 16 up only when the Zephyr version has them."""
    old = version is not None and tuple(version[:2]) < ZEPHYR_ARCH_CODES_SINCE
    if code >= ZEPHYR_ARCH_START and old:
        return ZephyrReason(code, f"arch-specific reason {code} (Zephyr {_dotted(version)})")
    return ZephyrReason(
        code, ZEPHYR_REASONS.get(code, f"reason {code}"), ZEPHYR_FAULT_BITS.get(code)
    )


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def coredump_zephyr_reason(extra: dict) -> int | None:
    """extra["zephyr_reason"] as an int, whatever shape a parser left it in."""
    value = extra.get("zephyr_reason") if isinstance(extra, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, dict):
        return coredump_zephyr_reason({"zephyr_reason": value.get("code")})
    return None


def coredump_zephyr_version(extra: dict) -> tuple[int, ...] | None:
    """extra["zephyr_version"] ("3.5.0" or a sequence of ints), if a parser recorded one."""
    value = extra.get("zephyr_version") if isinstance(extra, dict) else None
    if isinstance(value, str):
        parts = value.lstrip("v").split(".")
        return tuple(int(p) for p in parts if p.isdigit()) or None
    if isinstance(value, list | tuple) and all(isinstance(p, int) for p in value):
        return tuple(value) or None
    return None

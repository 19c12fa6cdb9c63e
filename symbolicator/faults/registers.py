"""The fault status registers as the device captured them.

The Memfault SDK copies SHCSR..AFSR (0xE000ED24, 28 bytes) into the coredump
as an ordinary memory region, ICSR/VTOR at 0xE000ED04 beside it
(memfault-formats.md 1.5); its GDB script captures the whole SCB window
0xE000ED00-0xE000ED8F instead. Each register is read on its own, so any
captured window holding it will do, and a register the device did not
capture is simply absent: ARMv6-M and ARMv8-M Baseline parts have no CFSR,
HFSR, MMFAR or BFAR at all (cortex-m-unwinding.md 6.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symbolicator.errors import UnreadableMemory

# ARMv7-M ARM (DDI 0403E) B3.2.2 table B3-4 (SCB), C1.6.1 (DFSR);
# Armv8-M ARM SAU register summary (SFSR, SFAR; Secure view only).
ADDRESSES = {
    "ICSR": 0xE000ED04,
    "SHCSR": 0xE000ED24,
    "CFSR": 0xE000ED28,
    "HFSR": 0xE000ED2C,
    "DFSR": 0xE000ED30,
    "MMFAR": 0xE000ED34,
    "BFAR": 0xE000ED38,
    "AFSR": 0xE000ED3C,
    "SFSR": 0xE000EDE4,
    "SFAR": 0xE000EDE8,
}

# Valid bits for the address registers: CFSR.MMARVALID (7), CFSR.BFARVALID (15),
# SFSR.SFARVALID (6). MMFAR and BFAR may share storage, so a stale value there
# is the rule rather than the exception (B3.2.17, B3.2.18).
_VALID_BITS = {"MMFAR": ("CFSR", 7), "BFAR": ("CFSR", 15), "SFAR": ("SFSR", 6)}


@dataclass(frozen=True)
class FaultRegisters:
    """Raw values by CMSIS register name; only the registers that were captured."""

    values: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int | None:
        return self.values.get(name)

    def value(self, name: str) -> int:
        """The register, or 0 when it was not captured: no bit of it can be read as set."""
        return self.values.get(name, 0)

    @property
    def captured(self) -> bool:
        """True if any fault status register is known (not just ICSR)."""
        return any(name in self.values for name in ("SHCSR", "CFSR", "HFSR", "SFSR"))

    def address(self, name: str) -> int | None:
        """MMFAR, BFAR or SFAR, only when its valid bit says it holds the fault address."""
        owner, bit = _VALID_BITS[name]
        if name not in self.values or not self.value(owner) >> bit & 1:
            return None
        return self.values[name]

    def to_dict(self) -> dict[str, int]:
        return dict(self.values)


def read_fault_registers(memory) -> FaultRegisters:
    """Every register of ADDRESSES that `memory` (a symbolicator.memory.Memory) holds."""
    values = {}
    for name, address in ADDRESSES.items():
        try:
            values[name] = memory.read_u32(address)
        except UnreadableMemory:
            continue
    return FaultRegisters(values)

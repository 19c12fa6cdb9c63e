"""Exception numbers, and which exception the device was handling when it dumped.

Two different numbers matter (cortex-m-unwinding.md 6.5): the *active*
exception, the fault handler that wrote the dump, and the IPSR field of the
stacked xPSR, which belongs to the *interrupted* code (0 in Thread mode, the
ISR's number when the fault hit an interrupt handler).
"""

from __future__ import annotations

from symbolicator.faults.bits import bit_named

# ARMv7-M ARM B1.5.2 table B1-4; SecureFault is Armv8-M.
EXCEPTION_NAMES = {
    1: "Reset",
    2: "NMI",
    3: "HardFault",
    4: "MemManage",
    5: "BusFault",
    6: "UsageFault",
    7: "SecureFault",
    11: "SVCall",
    12: "DebugMonitor",
    14: "PendSV",
    15: "SysTick",
}
NMI, HARD_FAULT, MEM_MANAGE, BUS_FAULT, USAGE_FAULT, SECURE_FAULT = 2, 3, 4, 5, 6, 7
FAULT_EXCEPTIONS = {HARD_FAULT, MEM_MANAGE, BUS_FAULT, USAGE_FAULT, SECURE_FAULT}
FIRST_IRQ = 16

# The CFSR sub-register (or SFSR) whose bits explain each configurable fault.
CAUSE_GROUPS = {MEM_MANAGE: "MMFSR", BUS_FAULT: "BFSR", USAGE_FAULT: "UFSR", SECURE_FAULT: "SFSR"}

# SHCSR active bits (B3.2.13; HARDFAULTACT, SECUREFAULTACT and NMIACT are Armv8-M).
_SHCSR_ACTIVE = {
    "HARDFAULTACT": HARD_FAULT,
    "NMIACT": NMI,
    "MEMFAULTACT": MEM_MANAGE,
    "BUSFAULTACT": BUS_FAULT,
    "USGFAULTACT": USAGE_FAULT,
    "SECUREFAULTACT": SECURE_FAULT,
}

# HFSR.VECTTBL, FORCED, DEBUGEVT: any of them means the HardFault handler ran (B3.2.16).
_HFSR_CAUSES = 1 << 1 | 1 << 30 | 1 << 31

# Memfault trace reasons that name the exception (memfault-formats.md 1.9).
_REASON_EXCEPTIONS = {0x91: BUS_FAULT, 0x92: MEM_MANAGE, 0x93: USAGE_FAULT}

# The PC reads one of these in lockup (GDB arm_m_addr_is_lockup; cortex-m-unwinding.md 1.5).
LOCKUP_PCS = {0xEFFFFFFE, 0xFFFFFFFE, 0xFFFFFFFF}

IPSR_MASK = 0x1FF  # xPSR[8:0], B1.4.2
VECTACTIVE_MASK = 0x1FF  # ICSR[8:0], B3.2.4


def exception_name(number: int) -> str:
    if number == 0:
        return "Thread mode"
    if number >= FIRST_IRQ:
        return f"IRQ {number - FIRST_IRQ}"
    return EXCEPTION_NAMES.get(number, f"reserved exception {number}")


def active_exception(registers, trace_reason: int | None) -> tuple[int | None, str]:
    """(exception number, what says so) for the exception whose handler dumped.

    1. ICSR.VECTACTIVE names it outright when the device captured ICSR.
    2. A set HFSR cause bit means HardFault ran; it preempts any configurable fault.
    3. An SHCSR active bit names a configurable fault handler.
    4. The trace reason the fault handler recorded (0x91xx..0x94xx, 0x8004).
    5. The only CFSR sub-register with a cause bit set.
    """
    vectactive = registers.value("ICSR") & VECTACTIVE_MASK
    if "ICSR" in registers.values and NMI <= vectactive <= SECURE_FAULT:
        return vectactive, "ICSR.VECTACTIVE"
    if registers.value("HFSR") & _HFSR_CAUSES:
        return HARD_FAULT, "HFSR"
    active = _shcsr_active(registers)
    if active is not None:
        return active, "SHCSR"
    from_reason = _exception_of_reason(trace_reason)
    if from_reason is not None:
        return from_reason, "trace reason"
    groups = cause_groups(registers)
    if len(groups) == 1:
        return groups[0], "CFSR"
    return None, "unknown"


def _shcsr_active(registers) -> int | None:
    """The active fault handler; of several (nested faults), the one with a cause bit."""
    shcsr = registers.value("SHCSR")
    active = [
        number for name, number in _SHCSR_ACTIVE.items() if shcsr >> bit_named("SHCSR", name) & 1
    ]
    with_cause = [number for number in active if number in cause_groups(registers)]
    chosen = with_cause or active
    return chosen[0] if chosen else None


def _exception_of_reason(code: int | None) -> int | None:
    if code is None:
        return None
    if code == 0x8004:
        return NMI
    if code == 0x9400:
        return HARD_FAULT
    return _REASON_EXCEPTIONS.get(code >> 8)


def cause_groups(registers) -> list[int]:
    """Configurable faults whose status sub-register has a bit set, in exception order."""
    cfsr = registers.value("CFSR")
    found = []
    if cfsr & 0x3B:  # MMFSR without MMARVALID
        found.append(MEM_MANAGE)
    if cfsr & 0x3F00:  # BFSR without BFARVALID
        found.append(BUS_FAULT)
    if cfsr & 0xFFFF0000:
        found.append(USAGE_FAULT)
    if registers.value("SFSR") & 0xBF:  # without SFARVALID
        found.append(SECURE_FAULT)
    return found

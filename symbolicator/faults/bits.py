"""Bit tables of the fault status registers, and decoding a value into them.

One row per architectural bit or field, named as CMSIS names it (SCB_CFSR_*,
SCB_HFSR_*, SCB_SHCSR_*, SCB_ICSR_*, CoreDebug DFSR, SAU_SFSR_*). These
dispatch tables are the accepted exception to the function-length rule
(STYLE.md 10). Sources: ARMv7-M ARM (DDI 0403E) B3.2.4 ICSR, B3.2.13 SHCSR,
B3.2.15 CFSR, B3.2.16 HFSR, B3.2.19 AFSR, C1.6.1 DFSR; Armv8-M ARM for
CFSR.STKOF, the v8-M SHCSR bits and SAU_SFSR; cortex-m-unwinding.md 6.1-6.2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum


class BitKind(StrEnum):
    CAUSE = "cause"  # says why a fault was taken
    VALID = "valid"  # an address register holds the fault address
    ACTIVE = "active"  # an exception handler is running (or was preempted)
    PENDING = "pending"
    ENABLED = "enabled"
    STATUS = "status"  # anything else worth showing
    FIELD = "field"  # a multi-bit number, such as ICSR.VECTACTIVE


@dataclass(frozen=True)
class DecodedBit:
    """One bit (or field) found set: plain data, ready for JSON."""

    register: str  # "CFSR", "HFSR", ...
    bit: int  # lowest bit position within the 32-bit register
    name: str  # CMSIS field name: "DACCVIOL", "FORCED", ...
    meaning: str
    kind: BitKind
    group: str = ""  # CFSR sub-register: "MMFSR", "BFSR" or "UFSR"
    width: int = 1
    value: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Spec:
    bit: int
    name: str
    kind: BitKind
    meaning: str
    group: str = ""
    width: int = 1


C, V, A, P, E, S, F = (
    BitKind.CAUSE,
    BitKind.VALID,
    BitKind.ACTIVE,
    BitKind.PENDING,
    BitKind.ENABLED,
    BitKind.STATUS,
    BitKind.FIELD,
)

# CFSR is three sub-registers side by side; bit numbers are those of the whole CFSR.
MMFSR = (  # CFSR[7:0], MemManage faults
    _Spec(0, "IACCVIOL", C, "instruction fetch that the MPU or XN forbids; stacked PC = address"),
    _Spec(1, "DACCVIOL", C, "data access the MPU forbids; MMFAR holds the address if MMARVALID"),
    _Spec(3, "MUNSTKERR", C, "MemManage fault unstacking on exception return"),
    _Spec(4, "MSTKERR", C, "MemManage fault stacking on exception entry; stacked frame invalid"),
    _Spec(5, "MLSPERR", C, "MemManage fault during lazy floating-point state preservation"),
    _Spec(7, "MMARVALID", V, "MMFAR holds the faulting data address"),
)
BFSR = (  # CFSR[15:8], BusFaults
    _Spec(8, "IBUSERR", C, "bus error on an instruction fetch"),
    _Spec(9, "PRECISERR", C, "precise data bus error; the stacked PC is the faulting instruction"),
    _Spec(10, "IMPRECISERR", C, "imprecise bus error (buffered write); the stacked PC is after it"),
    _Spec(11, "UNSTKERR", C, "bus error unstacking on exception return"),
    _Spec(12, "STKERR", C, "bus error stacking on exception entry; stacked frame invalid"),
    _Spec(13, "LSPERR", C, "bus error during lazy floating-point state preservation"),
    _Spec(15, "BFARVALID", V, "BFAR holds the faulting data address"),
)
UFSR = (  # CFSR[31:16], UsageFaults
    _Spec(16, "UNDEFINSTR", C, "undefined instruction (also udf and __builtin_trap)"),
    _Spec(17, "INVSTATE", C, "executed with EPSR.T = 0: a branch to an address with bit 0 clear"),
    _Spec(18, "INVPC", C, "invalid EXC_RETURN or integrity check failure on exception return"),
    _Spec(19, "NOCP", C, "coprocessor (FPU) instruction while it is absent or disabled"),
    _Spec(20, "STKOF", C, "Armv8-M: SP went below its stack limit (MSPLIM/PSPLIM)"),
    _Spec(24, "UNALIGNED", C, "unaligned access trapped (UNALIGN_TRP, or LDM/STM/LDRD/STRD)"),
    _Spec(25, "DIVBYZERO", C, "SDIV or UDIV by zero with CCR.DIV_0_TRP set"),
)
CFSR = tuple(
    replace(spec, group=group)
    for group, specs in (("MMFSR", MMFSR), ("BFSR", BFSR), ("UFSR", UFSR))
    for spec in specs
)

HFSR = (
    _Spec(1, "VECTTBL", C, "bus fault reading the vector table on exception entry"),
    _Spec(30, "FORCED", C, "a configurable fault escalated to HardFault; CFSR holds the cause"),
    _Spec(31, "DEBUGEVT", C, "debug event (such as bkpt) with halting debug disabled"),
)

DFSR = (
    _Spec(0, "HALTED", S, "halt request or step"),
    _Spec(1, "BKPT", S, "breakpoint instruction or FPB match"),
    _Spec(2, "DWTTRAP", S, "DWT watchpoint or trace match"),
    _Spec(3, "VCATCH", S, "vector catch"),
    _Spec(4, "EXTERNAL", S, "external debug request (EDBGRQ)"),
)

SHCSR = (
    _Spec(0, "MEMFAULTACT", A, "MemManage handler active"),
    _Spec(1, "BUSFAULTACT", A, "BusFault handler active"),
    _Spec(2, "HARDFAULTACT", A, "Armv8-M: HardFault handler active"),
    _Spec(3, "USGFAULTACT", A, "UsageFault handler active"),
    _Spec(4, "SECUREFAULTACT", A, "Armv8-M: SecureFault handler active"),
    _Spec(5, "NMIACT", A, "Armv8-M: NMI handler active"),
    _Spec(7, "SVCALLACT", A, "SVCall handler active"),
    _Spec(8, "MONITORACT", A, "DebugMonitor handler active"),
    _Spec(10, "PENDSVACT", A, "PendSV handler active"),
    _Spec(11, "SYSTICKACT", A, "SysTick handler active"),
    _Spec(12, "USGFAULTPENDED", P, "UsageFault pending"),
    _Spec(13, "MEMFAULTPENDED", P, "MemManage pending"),
    _Spec(14, "BUSFAULTPENDED", P, "BusFault pending"),
    _Spec(15, "SVCALLPENDED", P, "SVCall pending"),
    _Spec(16, "MEMFAULTENA", E, "MemManage enabled (else it escalates to HardFault)"),
    _Spec(17, "BUSFAULTENA", E, "BusFault enabled (else it escalates to HardFault)"),
    _Spec(18, "USGFAULTENA", E, "UsageFault enabled (else it escalates to HardFault)"),
    _Spec(19, "SECUREFAULTENA", E, "Armv8-M: SecureFault enabled"),
    _Spec(20, "SECUREFAULTPENDED", P, "Armv8-M: SecureFault pending"),
    _Spec(21, "HARDFAULTPENDED", P, "Armv8-M: HardFault pending"),
)

SFSR = (
    _Spec(0, "INVEP", C, "Non-secure code branched to a Secure address that is not an entry point"),
    _Spec(1, "INVIS", C, "invalid integrity signature in the exception frame on return"),
    _Spec(2, "INVER", C, "invalid exception return (EXC_RETURN.DCRS or ES wrong)"),
    _Spec(3, "AUVIOL", C, "Non-secure access to Secure memory (attribution unit violation)"),
    _Spec(4, "INVTRAN", C, "branch from Secure to Non-secure without the right instruction"),
    _Spec(5, "LSPERR", C, "SAU or IDAU violation during lazy floating-point state preservation"),
    _Spec(6, "SFARVALID", V, "SFAR holds the faulting address"),
    _Spec(7, "LSERR", C, "error during lazy state activation or deactivation"),
)

ICSR = (
    _Spec(0, "VECTACTIVE", F, "number of the exception being handled (0: Thread mode)", width=9),
    _Spec(11, "RETTOBASE", S, "no other exception is active besides this one"),
    _Spec(12, "VECTPENDING", F, "number of the highest-priority pending exception", width=9),
    _Spec(22, "ISRPENDING", P, "an external interrupt is pending"),
    _Spec(23, "ISRPREEMPT", S, "a pending exception will be serviced on leaving debug halt"),
    _Spec(26, "PENDSTSET", P, "SysTick pending"),
    _Spec(28, "PENDSVSET", P, "PendSV pending"),
    _Spec(31, "NMIPENDSET", P, "NMI pending"),
)

TABLES = {
    "SHCSR": SHCSR,
    "CFSR": CFSR,
    "HFSR": HFSR,
    "DFSR": DFSR,
    "SFSR": SFSR,
    "ICSR": ICSR,
}


def decode_register(register: str, value: int) -> list[DecodedBit]:
    """The bits and non-zero fields of one register value, lowest bit first."""
    if register == "AFSR":
        return _decode_afsr(value)
    found = []
    for spec in TABLES[register]:
        field_value = value >> spec.bit & ((1 << spec.width) - 1)
        if field_value:
            found.append(
                DecodedBit(
                    register,
                    spec.bit,
                    spec.name,
                    spec.meaning,
                    spec.kind,
                    spec.group,
                    spec.width,
                    field_value,
                )
            )
    return found


def _decode_afsr(value: int) -> list[DecodedBit]:
    # B3.2.19: the AFSR's layout is IMPLEMENTATION DEFINED, so only positions are known.
    return [
        DecodedBit("AFSR", bit, f"AFSR[{bit}]", "implementation defined", BitKind.STATUS)
        for bit in range(32)
        if value >> bit & 1
    ]


def decode_fault_registers(registers) -> list[DecodedBit]:
    """Every set bit of the captured registers (a FaultRegisters), register by register."""
    found = []
    for register in ("SHCSR", "CFSR", "HFSR", "DFSR", "AFSR", "SFSR", "ICSR"):
        value = registers.get(register)
        if value is not None:
            found.extend(decode_register(register, value))
    return found


def bit_named(register: str, name: str) -> int:
    """Bit position of a named bit, for rules that test one bit."""
    return next(spec.bit for spec in TABLES[register] if spec.name == name)

"""What fault analysis produces: plain data, ready to be stored as JSON.

Text is made from it by symbolicator.faults.describe, never here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from symbolicator.faults.bits import BitKind, DecodedBit


class AnalysisStatus(StrEnum):
    DECODED = "decoded"  # fault status registers captured, with a cause bit set
    NO_FAULT_BITS = "no_fault_bits"  # captured but clear: a software-triggered dump
    NOT_CAPTURED = "not_captured"  # no fault status registers in the coredump


class FaultKind(StrEnum):
    """The headline category, for grouping and the UI."""

    ASSERT = "assert"
    STACK_OVERFLOW = "stack_overflow"
    FAULT = "fault"  # a CPU fault: HardFault, MemManage, BusFault, UsageFault, SecureFault
    WATCHDOG = "watchdog"
    ERROR = "error"  # another unexpected reset the firmware reported (panic, out of memory...)
    UNKNOWN = "unknown"


class Access(StrEnum):
    """What the faulting instruction did to memory."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    NONE = "none"  # the cause is not a memory access (undefined instruction, divide by zero)
    UNKNOWN = "unknown"  # a memory access, but the instruction could not be decoded


class FaultFlag(StrEnum):
    ESCALATED = "escalated"  # HFSR.FORCED: a configurable fault became a HardFault
    PRECISE = "precise"  # PRECISERR: the stacked PC is the faulting load or store
    PC_APPROXIMATE = "pc_approximate"  # IMPRECISERR: the culprit ran shortly before the PC
    FRAME_UNTRUSTED = "stacked_frame_untrusted"  # MSTKERR / STKERR: stacking failed
    FP_STATE_UNTRUSTED = "fp_state_untrusted"  # MLSPERR / LSPERR: lazy FP stacking failed
    VECTOR_TABLE = "vector_table_read"  # HFSR.VECTTBL
    DEBUG_EVENT = "debug_event"  # HFSR.DEBUGEVT: bkpt with no debugger
    LOCKUP = "lockup"  # a fault at HardFault/NMI priority, or a lockup PC or reason


@dataclass
class Place:
    """A point in the code, as the trace's frames name it."""

    pc: int
    function: str | None = None
    file: str | None = None
    line: int | None = None
    frame: int | None = None  # index into the crashed thread's frames


@dataclass
class Context:
    """The code the fault interrupted (from the stacked xPSR and the stack pointers)."""

    mode: str  # "thread", "handler" or "unknown"
    exception_number: int | None = None  # the stacked IPSR; 0 in Thread mode
    exception: str | None = None  # "IRQ 9", "SysTick"...
    handler: str | None = None  # function of the interrupted handler, from the trace
    thread: str | None = None  # the crashed (running) thread, interrupted if in a handler
    stack: str | None = None  # "MSP" or "PSP": the stack the interrupted code used


@dataclass
class FaultAddress:
    address: int
    source: str  # "MMFAR", "BFAR", "SFAR" or "PC" (instruction fetches)
    symbol: str | None = None  # the ELF object or function the address lies in
    offset: int | None = None
    near_null: bool = False  # within the first 4 KiB: a NULL pointer plus an offset


@dataclass
class StackOverflow:
    thread: str | None  # whose stack; None: the main stack with no thread owning it
    stack: str | None  # "MSP" or "PSP"
    sp: int | None
    stack_base: int | None = None
    stack_size: int | None = None
    evidence: list[str] = field(default_factory=list)
    recursion: str | None = None  # a function repeated down the crashed thread's frames
    recursion_depth: int = 0  # how many frames of it in a row


@dataclass
class Assertion:
    handler: str | None  # the assert function in the trace, e.g. "__assert_func"
    origin: str | None = None  # "newlib", "Zephyr", "dre test firmware"...
    file: str | None = None
    line: int | None = None
    expression: str | None = None
    source: str = ""  # where file/line/expression came from: "arguments", "g_dre_assert"...


@dataclass
class FaultPath:
    """A second fault inside the fault handler or coredump saver (fault_path.py)."""

    evidence: list[str]  # "interrupted_fault_handler", "fault_path_frames"
    interrupted_handler: str | None = None  # the handler the second fault hit: "MemManage"
    functions: list[str] = field(default_factory=list)  # fault-path functions in the frames
    first_reason: int | None = None  # the recorded trace reason: the first fault's
    first_reason_name: str | None = None
    first_thread: str | None = None  # the thread that ran when the first fault hit
    first_context: str = "lost"  # "unwound": frames from first_frame are the first fault's
    first_frame: int | None = None  # index into the crashed thread's frames
    first_place: Place | None = None


@dataclass
class FaultAnalysis:
    status: AnalysisStatus
    reason: str  # why the status, in a few words
    kind: FaultKind
    exception: str | None = None  # the active fault handler: "MemManage", "HardFault"...
    exception_number: int | None = None
    exception_source: str = "unknown"  # "ICSR.VECTACTIVE", "HFSR", "SHCSR", "trace reason"...
    escalated_from: str | None = None  # HardFault with FORCED: the configurable fault
    cause: str | None = None  # the CMSIS bit that explains it best: "DACCVIOL", "DIVBYZERO"
    causes: list[str] = field(default_factory=list)  # every cause bit set
    cause_source: str = ""  # "fault registers", or the reason code it was read from
    access: Access = Access.NONE
    access_hint: str = ""
    address: FaultAddress | None = None
    flags: list[FaultFlag] = field(default_factory=list)
    context: Context = field(default_factory=lambda: Context("unknown"))
    place: Place | None = None  # where it happened (for asserts: the assert's caller)
    # Who called: for a bad branch target, the code that branched; when stacking
    # failed and the faulting PC is lost, the innermost frame the unwinder recovered.
    caller: Place | None = None
    stack_overflow: StackOverflow | None = None
    assertion: Assertion | None = None
    trace_reason: int | None = None
    trace_reason_name: str | None = None
    zephyr_reason: int | None = None
    zephyr_reason_name: str | None = None
    registers: dict[str, int] = field(default_factory=dict)  # raw, as captured
    bits: list[DecodedBit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fault_path: FaultPath | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FaultAnalysis:
        """The inverse of to_dict, for describing a stored analysis again."""
        nested = {
            "address": FaultAddress,
            "context": Context,
            "place": Place,
            "caller": Place,
            "stack_overflow": StackOverflow,
            "assertion": Assertion,
        }
        fields = dict(data)
        for name, kind in nested.items():
            if fields.get(name) is not None:
                fields[name] = kind(**fields[name])
        if fields.get("fault_path") is not None:
            path = dict(fields["fault_path"])
            place = path.get("first_place")
            path["first_place"] = Place(**place) if place else None
            fields["fault_path"] = FaultPath(**path)
        fields["status"] = AnalysisStatus(fields["status"])
        fields["kind"] = FaultKind(fields["kind"])
        fields["access"] = Access(fields.get("access", Access.NONE))
        fields["flags"] = [FaultFlag(flag) for flag in fields.get("flags", [])]
        fields["bits"] = [
            DecodedBit(**{**bit, "kind": BitKind(bit["kind"])}) for bit in fields.get("bits", [])
        ]
        return cls(**fields)

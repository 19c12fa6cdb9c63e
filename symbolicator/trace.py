"""What symbolication produces: plain data, ready to be stored as JSON.

Every frame carries an explicit status and a hint saying how it was found,
so a reader can tell a CFI-exact frame from a guessed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

# Trace.variables: whether the frames' arguments and locals are in the trace.
VARIABLES_READ = "read"  # they are (or there is no debug info to read them from)
VARIABLES_DEFERRED = "deferred"  # not yet: symbolicate.variables_read reads them


class FrameStatus(StrEnum):
    SYMBOLICATED = "symbolicated"
    MISSING_SYMBOL = "missing_symbol"  # no symbol file for this code at all
    UNKNOWN_FUNCTION = "unknown_function"  # symbol file present, no function covers the pc
    UNREADABLE_MEMORY = "unreadable_memory"  # unwinding needed memory that was not captured


class FrameKind(StrEnum):
    NORMAL = "normal"
    INLINE = "inline"  # a function inlined into the frame below it; shares its pc
    EXCEPTION = "exception"  # GDB's <signal handler called>
    TAILCALL = "tailcall"


@dataclass
class SourceLocation:
    file: str
    line: int


@dataclass
class VariableInfo:
    name: str
    type: str
    text: str  # the value as GDB prints it
    address: int | None = None
    size: int = 0
    scalar: bool = True  # `bt` shows "..." for structs, unions and arrays
    entry: str | None = None  # a parameter's value on entry (GDB's name@entry), if known
    entry_matches: bool = False  # the entry value equals the current one


@dataclass
class Frame:
    pc: int
    kind: FrameKind = FrameKind.NORMAL
    status: FrameStatus = FrameStatus.SYMBOLICATED
    function: str | None = None
    function_offset: int | None = None
    location: SourceLocation | None = None
    call_site: SourceLocation | None = None  # inline frames: where the caller inlined it
    hint: str = ""
    cfa: int | None = None
    registers: dict[str, int] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)  # registers unwinding restored here
    arguments: list[VariableInfo] = field(default_factory=list)
    locals: list[VariableInfo] = field(default_factory=list)
    # The pc is where its line-table row starts (GDB's sal.pc == pc); `bt` then omits it.
    at_line_start: bool = False

    @property
    def is_exception(self) -> bool:
        return self.kind == FrameKind.EXCEPTION


@dataclass
class Thread:
    name: str
    crashed: bool
    frames: list[Frame] = field(default_factory=list)
    stop_reason: str = ""
    state: str | None = None
    stack: dict[str, int] | None = None
    priority: int | None = None
    notes: list[str] = field(default_factory=list)  # e.g. what the thread waits on
    problems: list[str] = field(default_factory=list)  # what the kernel data did not tell


@dataclass
class Trace:
    threads: list[Thread]
    build_id: str | None = None
    trace_reason: int | None = None
    warnings: list[str] = field(default_factory=list)
    kernel: str | None = None  # the RTOS whose threads these are: FreeRTOS, Zephyr, ...
    fault: dict | None = None  # symbolicator.faults.FaultAnalysis.to_dict()
    title: str | None = None  # short: fault kind, cause and function
    summary: str | None = None  # the fault in one sentence, with the place
    mpu: dict | None = None  # symbolicator.mpu.MpuAnalysis.to_dict(), when the MPU was captured
    interrupts: dict | None = None  # symbolicator.interrupts.InterruptAnalysis.to_dict()
    heap: dict | None = None  # symbolicator.heap.HeapAnalysis.to_dict()
    variables: str = VARIABLES_READ  # VARIABLES_READ or VARIABLES_DEFERRED

    @property
    def crashed_thread(self) -> Thread | None:
        return next((t for t in self.threads if t.crashed), None)

    def to_dict(self) -> dict:
        return plain(self)

    @classmethod
    def from_dict(cls, data: dict) -> Trace:
        threads = [_thread_from_dict(t) for t in data.get("threads", [])]
        rest = {k: v for k, v in data.items() if k != "threads"}
        return cls(threads=threads, **rest)


_LEAVES = frozenset({str, int, float, bool, type(None)})
_field_names: dict[type, tuple[str, ...]] = {}


def plain(value):
    """dataclasses.asdict without its deep copy of every leaf: the same result in a
    fraction of the time (a trace holds thousands of small values, and a worker turns
    one into JSON per coredump). Leaves here are immutable or made for this trace, and
    are taken as they are without a call (most values are leaves: registers, pcs)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is list or kind is tuple:
        return kind([v if type(v) in _LEAVES else plain(v) for v in value])
    if kind is dict:
        return {
            k if type(k) in _LEAVES else plain(k): v if type(v) in _LEAVES else plain(v)
            for k, v in value.items()
        }
    if hasattr(kind, "__dataclass_fields__"):
        names = _field_names.get(kind)
        if names is None:
            names = _field_names[kind] = tuple(f.name for f in fields(value))
        return {
            name: v if type(v := getattr(value, name)) in _LEAVES else plain(v) for name in names
        }
    return value


def _thread_from_dict(data: dict) -> Thread:
    frames = [_frame_from_dict(f) for f in data.get("frames", [])]
    return Thread(**{**data, "frames": frames})


def _frame_from_dict(data: dict) -> Frame:
    location = data.get("location")
    call_site = data.get("call_site")
    return Frame(
        **{
            **data,
            "arguments": [VariableInfo(**v) for v in data.get("arguments", [])],
            "locals": [VariableInfo(**v) for v in data.get("locals", [])],
            "kind": FrameKind(data.get("kind", FrameKind.NORMAL)),
            "status": FrameStatus(data.get("status", FrameStatus.SYMBOLICATED)),
            "location": SourceLocation(**location) if location else None,
            "call_site": SourceLocation(**call_site) if call_site else None,
        }
    )

"""Two stored traces of one issue side by side: what varies between occurrences.

Pure functions over the stored JSON (symbolicator.Trace.to_dict()) and, for globals,
the printed values the trace page's inspector reads; the view only loads and renders.

1. Threads are paired by name (a thread only one trace has is paired with nothing);
2. frames by position, marked as differing when the function or the line differs;
3. arguments and locals of paired frames running the same function, and globals by
   name and file, are listed only where their printed values differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class FramePair:
    level: int
    a: str | None  # "function file:line", or None past the end of that thread's frames
    b: str | None
    differs: bool


@dataclass
class ThreadPair:
    name: str
    state: tuple[str | None, str | None]
    in_use: tuple[int | None, int | None]  # stack bytes in use at the crash
    frames: list[FramePair] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return any(f.differs for f in self.frames) or self.state[0] != self.state[1]


@dataclass
class ValuePair:
    where: str  # "#3 storage_save" for a frame's variable, the file for a global
    name: str
    a: str | None  # None: absent from that trace
    b: str | None


@dataclass
class TraceDiff:
    threads: list[ThreadPair]
    variables: list[ValuePair]
    globals: list[ValuePair] = field(default_factory=list)
    globals_note: str = ""  # why globals could not be compared, if they could not
    variables_note: str = ""  # why arguments and locals could not be, if they could not

    def to_dict(self) -> dict:
        return asdict(self)


def trace_diff(a: dict, b: dict) -> TraceDiff:
    threads_a = {t["name"]: t for t in a.get("threads", [])}
    threads_b = {t["name"]: t for t in b.get("threads", [])}
    names = list(dict.fromkeys([*threads_a, *threads_b]))
    pairs = [_thread_pair(name, threads_a.get(name), threads_b.get(name)) for name in names]
    variables = []
    for name in names:
        variables += _variable_pairs(threads_a.get(name), threads_b.get(name))
    return TraceDiff(pairs, variables, variables_note=_variables_note(a, b))


def _variables_note(*traces: dict) -> str:
    """Why a trace has no arguments and locals to compare (dre.crashes.variables)."""
    problems = [t["variables_problem"] for t in traces if t.get("variables_problem")]
    return f"arguments and locals cannot be compared: {'; '.join(problems)}" if problems else ""


def _thread_pair(name: str, a: dict | None, b: dict | None) -> ThreadPair:
    frames_a, frames_b = (t.get("frames", []) if t else [] for t in (a, b))
    pair = ThreadPair(
        name,
        ((a or {}).get("state"), (b or {}).get("state")),
        (_in_use(a), _in_use(b)),
    )
    for level in range(max(len(frames_a), len(frames_b))):
        left = _frame_text(frames_a[level]) if level < len(frames_a) else None
        right = _frame_text(frames_b[level]) if level < len(frames_b) else None
        pair.frames.append(FramePair(level, left, right, left != right))
    return pair


def _in_use(thread: dict | None) -> int | None:
    return ((thread or {}).get("stack") or {}).get("in_use")


def _frame_text(frame: dict) -> str:
    if frame.get("kind") == "exception":
        return "<signal handler called>"
    location = frame.get("location")
    where = f" {location['file']}:{location['line']}" if location else ""
    return f"{frame.get('function') or '??'}{where}"


def _variable_pairs(a: dict | None, b: dict | None) -> list[ValuePair]:
    if a is None or b is None:
        return []
    out = []
    for level, (left, right) in enumerate(
        zip(a.get("frames", []), b.get("frames", []), strict=False)
    ):
        if left.get("function") is None or left.get("function") != right.get("function"):
            continue
        where = f"{a['name']} #{level} {left['function']}"
        out += _differing(where, _values(left), _values(right))
    return out


def _values(frame: dict) -> dict[str, str]:
    variables = [*frame.get("arguments", []), *frame.get("locals", [])]
    return {v["name"]: v["text"] for v in variables}


def _differing(where: str, a: dict[str, str], b: dict[str, str]) -> list[ValuePair]:
    names = list(dict.fromkeys([*a, *b]))
    return [ValuePair(where, n, a.get(n), b.get(n)) for n in names if a.get(n) != b.get(n)]


def globals_diff(a: list[dict], b: list[dict]) -> list[ValuePair]:
    """Globals ({name, file, text}) whose printed values differ, by name and file."""
    by_key_a = {(g["name"], g["file"]): g["text"] for g in a}
    by_key_b = {(g["name"], g["file"]): g["text"] for g in b}
    keys = list(dict.fromkeys([*by_key_a, *by_key_b]))
    return [
        ValuePair(file or "", name, by_key_a.get((name, file)), by_key_b.get((name, file)))
        for name, file in keys
        if by_key_a.get((name, file)) != by_key_b.get((name, file))
    ]

"""The trace page's lazy data: variable trees, registers, disassembly, memory and
globals, as plain dicts for the JSON endpoints.

Each request loads the trace's coredump and symbol index again (dre.crashes.sources),
then asks symbolicator.inspect for the one thing it needs. Thread and frame numbers are
positions in the stored Trace's lists, as symbolicator.inspect numbers them.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from threading import Lock

import symbolicator
from dre.crashes.models import Trace
from dre.crashes.sources import SourcesUnavailable, trace_sources_load
from symbolicator.export import elf_core
from symbolicator.inspect import (
    disassemble,
    expand,
    frame_variables,
    memory_rows,
    regions,
    resolve_address,
)
from symbolicator.memory import SOURCE_COREDUMP, Memory
from symbolicator.symbolicate import coredump_memory
from symbolicator.variables import VariableReader
from symbolicator.variables.tree import PAGE, has_children

# GDB's `info registers` order on Cortex-M; FPU registers follow when the target has them.
CORE_REGISTERS = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp"]
FPU_REGISTERS = [f"s{n}" for n in range(32)] + ["fpscr"]
MEMORY_VIEW = 256
MAX_MEMORY_VIEW = 4096
GLOBALS_PAGE = 100
EXC_RETURN_MIN = 0xF0000000
POINTER_TEXT = re.compile(r"^(0x[0-9a-fA-F]+)\b")


class Unavailable(Exception):
    """The trace cannot be inspected (no symbol file, blob gone, bad thread or frame)."""


@dataclass
class Loaded:
    """One trace's coredump, symbol index and memory, for the length of a request."""

    trace: Trace
    coredump: symbolicator.Coredump
    index: symbolicator.SymbolIndex
    memory: Memory

    @cached_property
    def reader(self) -> VariableReader:
        return VariableReader(self.index, self.memory)

    def frame(self, thread: int, frame: int) -> dict:
        try:
            return self.trace.data["threads"][thread]["frames"][frame]
        except (IndexError, KeyError, TypeError) as exc:
            raise Unavailable(f"no frame {frame} in thread {thread}") from exc

    def readable(self, address: int | None) -> int | None:
        """`address` if the viewer can show bytes there (captured or from the ELF)."""
        return address if address is not None and self.memory.can_read(address) else None

    def captured(self, address: int | None) -> int | None:
        """`address` if the device captured memory there: where a pointer or a register
        value is worth following (the ELF's code and constants start at 0, like NULL)."""
        if address is None or self.memory.source_of(address) != SOURCE_COREDUMP:
            return None
        return address


def trace_load(trace: Trace) -> Loaded:
    try:
        coredump, index = trace_sources_load(trace)
    except SourcesUnavailable as exc:
        raise Unavailable(str(exc)) from exc
    return Loaded(trace, coredump, index, coredump_memory(coredump, index))


# -- variables ---------------------------------------------------------------------------


def variables_of_frame(loaded: Loaded, thread: int, frame: int) -> dict:
    """A frame's arguments and locals, one level deep, with GDB's name@entry values
    from the stored trace."""
    stored = loaded.frame(thread, frame)
    try:
        found = frame_variables(loaded.coredump, loaded.index, thread, frame)
    except (IndexError, KeyError) as exc:
        raise Unavailable(f"no frame {frame} in thread {thread}") from exc
    out = {}
    for kind, nodes in found.items():
        entries = {v["name"]: v for v in stored.get(kind, []) if v.get("entry")}
        out[kind] = [_with_entry(node_dict(loaded, n), entries.get(n.name)) for n in nodes]
    return out


def _with_entry(node: dict, stored: dict | None) -> dict:
    if stored is not None:
        node["entry"], node["entry_matches"] = stored["entry"], stored.get("entry_matches")
    return node


def variable_children(loaded: Loaded, root: dict, path: list[int], offset: int) -> dict:
    try:
        children = expand(loaded.coredump, loaded.index, root, path, offset)
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise Unavailable(f"no such variable: {exc}") from exc
    return {
        "children": [node_dict(loaded, child) for child in children],
        "more": offset + PAGE if len(children) == PAGE else None,
    }


def node_dict(loaded: Loaded, node) -> dict:
    """A VariableNode for the page, with where its bytes are and where it points."""
    out = node.to_dict()
    out["at"] = loaded.readable(node.address)
    out["points_to"] = None
    match = POINTER_TEXT.match(node.text or "")
    if match and node.type.rstrip().endswith("*"):
        out["points_to"] = loaded.captured(int(match[1], 16))
    return out


def parse_root(data) -> dict:
    """A variable root from the page: a frame's argument or local, or a global."""
    if not isinstance(data, dict):
        raise Unavailable("a variable root is an object")
    if "global" in data:
        root = {"global": str(data["global"])}
        if data.get("unit"):
            root["unit"] = str(data["unit"])
        return root
    try:
        root = {k: int(data[k]) for k in ("thread", "frame", "position")}
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable("a frame variable needs thread, frame and position") from exc
    if data.get("kind") not in ("arguments", "locals"):
        raise Unavailable("kind is arguments or locals")
    return {**root, "kind": data["kind"]}


# -- registers ---------------------------------------------------------------------------


def registers_of_frame(loaded: Loaded, thread: int, frame: int) -> dict:
    """The frame's registers in GDB's order, each with how it is known:

    - "context": from the coredump (the crashed thread's first frame) or the thread's
      saved context (other threads);
    - "recovered": the unwinder restored it for this frame (CFI, exception frame...);
    - "carried": passed through unchanged from the frame below (GDB's same-value);
    - "unknown": the unwinder could not tell (absent from the stored frame).
    """
    frames = loaded.trace.data["threads"][thread]["frames"]
    stored = loaded.frame(thread, frame)
    known = stored.get("registers") or {}
    first = _in_first_stack_frame(frames, frame)
    names = _register_names(frames, known)
    crashed = loaded.trace.data["threads"][thread].get("crashed")
    rows = [
        {
            "name": name,
            "value": known.get(name),
            "how": _how(name, known, first, stored.get("recovered", ())),
            "points_to": loaded.captured(known.get(name)),
        }
        for name in names
    ]
    context = "the coredump" if crashed else "the thread's saved context"
    return {"registers": rows, "context": context, "hint": stored.get("hint", "")}


def _in_first_stack_frame(frames: list[dict], frame: int) -> bool:
    """Whether no inner frame is a different stack frame (inline frames share their
    concrete frame's registers): the registers are then the thread's own context."""
    mine = frames[frame].get("registers") or {}
    return all((inner.get("registers") or {}) == mine for inner in frames[:frame])


def _register_names(frames: list[dict], known: dict) -> list[str]:
    has_fpu = any(name in f.get("registers", {}) for f in frames for name in ("s0", "s16"))
    names = CORE_REGISTERS + (FPU_REGISTERS if has_fpu else [])
    return names + sorted(set(known) - set(names))


def _how(name: str, known: dict, first: bool, recovered) -> str:
    if name not in known:
        return "unknown"
    if first:
        return "context"
    return "recovered" if name in recovered else "carried"


# -- disassembly and memory ---------------------------------------------------------------


def disassembly_of_frame(loaded: Loaded, thread: int, frame: int) -> dict:
    stored = loaded.frame(thread, frame)
    pc = stored.get("pc")
    if stored.get("kind") == "exception" or pc is None or pc >= EXC_RETURN_MIN:
        return {"pc": pc, "instructions": [], "note": "an exception frame has no code"}
    found = disassemble(loaded.index, loaded.memory, pc & ~1, 16, 12, loaded.reader.symbolize)
    return {
        "pc": pc,
        "function": stored.get("function"),
        "instructions": [
            {
                "address": i.address,
                "symbol": loaded.reader.symbolize(i.address),
                "encoding": i.encoding,
                "mnemonic": i.mnemonic,
                "operands": i.operands,
                "is_pc": i.is_pc,
                "target": i.target,
                "target_name": i.target_name,
                "source": i.source,
                "data": i.data,
            }
            for i in found
        ],
    }


def memory_at(loaded: Loaded, at: str, length: int = MEMORY_VIEW) -> dict:
    address = resolve_address(at, loaded.index)
    if address is None:
        raise Unavailable(f"{at!r} is neither an address nor a symbol")
    length = max(16, min(length, MAX_MEMORY_VIEW))
    start = address - address % 16  # whole rows from the one holding the address
    rows = memory_rows(loaded.memory, start, length, loaded.reader.symbolize)
    return {
        "address": address,
        "start": start,
        "previous": max(start - length, 0),
        "next": start + len(rows) * 16,
        "rows": [
            {
                "address": row.address,
                "bytes": row.bytes,
                "sources": row.sources,
                "symbol": row.symbol,
                "ascii": row.ascii,
            }
            for row in rows
        ],
    }


def memory_regions(loaded: Loaded) -> list[dict]:
    return [
        {"start": r.start, "end": r.end, "source": r.source, "name": r.name}
        for r in regions(loaded.memory, loaded.index)
    ]


# -- globals -----------------------------------------------------------------------------

_globals_cache: OrderedDict[int, list[dict]] = OrderedDict()
_globals_lock = Lock()
GLOBALS_CACHE_SIZE = 32


def globals_matching(loaded: Loaded, query: str, offset: int = 0) -> dict:
    """Globals and file statics whose name contains `query`, a page at a time."""
    query = query.strip().lower()
    found = [g for g in _all_globals(loaded) if query in g["name"].lower()]
    return {
        "total": len(found),
        "globals": found[offset : offset + GLOBALS_PAGE],
        "more": offset + GLOBALS_PAGE if len(found) > offset + GLOBALS_PAGE else None,
    }


def globals_all(loaded: Loaded) -> list[dict]:
    """Every global and file static with its printed value (for comparing two traces)."""
    return _all_globals(loaded)


def _all_globals(loaded: Loaded) -> list[dict]:
    """Every global's value printed once per coredump; a coredump never changes, so the
    list is kept for the next search in a small per-process cache."""
    key = loaded.trace.coredump_id
    with _globals_lock:
        if key in _globals_cache:
            _globals_cache.move_to_end(key)
            return _globals_cache[key]
    found = sorted(
        (
            {
                "name": g.name,
                "type": g.type,
                "text": g.text,
                "file": g.file,
                "static": not g.external,
                "address": g.address,
                "at": loaded.readable(g.address),
                "size": g.size,
                "expandable": g.value is not None and has_children(g.value),
                "root": {"global": g.name, "unit": g.file},
                "path": [],
            }
            for g in loaded.reader.globals()
        ),
        key=lambda g: (g["name"].lower(), g["file"]),
    )
    with _globals_lock:
        _globals_cache[key] = found
        while len(_globals_cache) > GLOBALS_CACHE_SIZE:
            _globals_cache.popitem(last=False)
    return found


# -- the ELF core download -----------------------------------------------------------------


def elf_core_bytes(loaded: Loaded) -> bytes:
    return elf_core(loaded.coredump, loaded.index)

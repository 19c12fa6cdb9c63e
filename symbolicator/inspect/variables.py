"""Variables of one frame, or of the program, as expandable trees for the trace page.

A node is addressed by its root (a frame's argument or local, or a global) and a
path of child positions from there, so the page asks for one level at a time and
large structures are never serialized whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from symbolicator.dwarf.dies import Die
from symbolicator.symbolicate import coredump_memory, thread_contexts
from symbolicator.variables import VariableReader, scopes
from symbolicator.variables.gdb_format import type_name
from symbolicator.variables.tree import PAGE, child_values, has_children
from symbolicator.variables.values import Value


@dataclass
class VariableNode:
    name: str
    type: str
    text: str
    address: int | None
    size: int
    root: dict  # how to find the variable this node is part of (see expand)
    path: list[int]  # child positions from that variable down to this node
    expandable: bool

    def to_dict(self) -> dict:
        return asdict(self)


def frame_variables(coredump, index, thread: int, frame: int) -> dict[str, list[VariableNode]]:
    """A frame's arguments and locals (frame numbers as in the Trace's thread)."""
    reader, context, scope = _frame(coredump, index, thread, frame)
    if scope is None:
        return {"arguments": [], "locals": []}
    found = {
        "arguments": scopes.arguments(scope, reader.dies),
        "locals": scopes.locals_at(scope, context.pc, reader.dies),
    }
    return {
        kind: [
            _top(
                reader,
                die,
                context,
                {"thread": thread, "frame": frame, "kind": kind, "position": n},
            )
            for n, die in enumerate(dies)
        ]
        for kind, dies in found.items()
    }


def expand(coredump, index, root: dict, path: list[int], offset: int = 0) -> list[VariableNode]:
    """Children of the node at `path` under `root` ({"global": name, "unit"?: file} or
    {"thread": n, "frame": n, "kind": "arguments" | "locals", "position": n}); arrays
    are listed a page at a time from `offset`."""
    reader, value = _root_value(coredump, index, root)
    for step in path:
        value = child_values(value, reader.memory, step - step % PAGE)[step % PAGE][1]
    return [
        _node(reader, label, child, root, [*path, offset + n])
        for n, (label, child) in enumerate(child_values(value, reader.memory, offset))
    ]


def _root_value(coredump, index, root: dict) -> tuple[VariableReader, Value]:
    if "global" in root:
        reader = VariableReader(index, coredump_memory(coredump, index))
        found = reader.global_named(root["global"], root.get("unit"))
        if found is None:
            raise KeyError(f"no global named {root['global']!r}")
        return reader, found.value
    reader, context, scope = _frame(coredump, index, root["thread"], root["frame"])
    if scope is None:
        raise KeyError("the frame has no variables")
    if root["kind"] == "arguments":
        dies = scopes.arguments(scope, reader.dies)
    else:
        dies = scopes.locals_at(scope, context.pc, reader.dies)
    die = dies[root["position"]]
    declared = scopes.declaring_die(die, reader.dies)
    return reader, reader.value_of(die, reader.types.type_of(declared), context)


def _frame(coredump, index, thread: int, frame: int):
    memory = coredump_memory(coredump, index)
    reader = VariableReader(index, memory)
    _, context, scope_offset = thread_contexts(coredump, index, memory)[thread][frame]
    if context is None or scope_offset is None:
        return reader, context, None
    context = type(context)(**{**context.__dict__, "scope": scope_offset})
    return reader, context, reader.dies.die(scope_offset)


def _top(reader: VariableReader, die: Die, context, root: dict) -> VariableNode:
    declared = scopes.declaring_die(die, reader.dies)
    value = reader.value_of(die, reader.types.type_of(declared), context)
    return _node(reader, declared.name or "?", value, root, [])


def _node(
    reader: VariableReader, name: str, value: Value, root: dict, path: list[int]
) -> VariableNode:
    return VariableNode(
        name=name,
        type=type_name(value.type),
        text=reader.printer.value(value),
        address=value.address,
        size=value.type.byte_size,
        root=root,
        path=path,
        expandable=has_children(value),
    )

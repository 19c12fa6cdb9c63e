"""A value's children, for the structured (expandable) form of variables."""

from __future__ import annotations

from symbolicator.variables.types import Type
from symbolicator.variables.values import Value, in_memory

PAGE = 100  # array elements listed per expansion


def child_values(value: Value, memory, offset: int = 0) -> list[tuple[str, Value]]:
    """(label, value) of a struct's members, an array's elements from `offset` (one page),
    or what a pointer points to."""
    kind = value.type.strip().kind
    if kind in ("struct", "union"):
        return [
            (member.name or "<anonymous>", value.slice(member.offset, member.type))
            for member in value.type.strip().members
        ]
    if kind == "array":
        return _elements(value, offset)
    if kind == "pointer":
        return _pointee(value, memory)
    return []


def has_children(value: Value) -> bool:
    stripped = value.type.strip()
    if stripped.kind in ("struct", "union"):
        return bool(stripped.members)
    if stripped.kind == "array":
        return bool(stripped.dimensions and stripped.dimensions[0])
    if stripped.kind == "pointer":
        target = stripped.target.strip() if stripped.target else None
        return (
            target is not None
            and target.kind not in ("void", "function")
            and value.fully_known
            and value.integer(signed=False) != 0
        )
    return False


def _elements(value: Value, offset: int) -> list[tuple[str, Value]]:
    array = value.type.strip()
    element = (
        array.target
        if len(array.dimensions) <= 1
        else Type("array", target=array.target, dimensions=array.dimensions[1:])
    )
    count = array.dimensions[0] or 0
    size = element.byte_size
    return [
        (f"[{i}]", value.slice(i * size, element)) for i in range(offset, min(count, offset + PAGE))
    ]


def _pointee(value: Value, memory) -> list[tuple[str, Value]]:
    if not has_children(value):
        return []
    target = value.type.strip().target
    return [("*", in_memory(target, value.integer(signed=False), memory))]

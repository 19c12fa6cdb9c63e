"""C types from DWARF DIEs (DWARF 5 section 5), resolved lazily and cached per DIE.

Qualifiers and typedefs are kept as their own Type objects so names print
the way GDB prints them; `strip()` looks through them when the layout is
what matters.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die, DieReader

TAG_ARRAY, TAG_CLASS, TAG_ENUM, TAG_MEMBER = 0x01, 0x02, 0x04, 0x0D
TAG_POINTER, TAG_REFERENCE, TAG_STRUCT, TAG_SUBROUTINE, TAG_TYPEDEF = 0x0F, 0x10, 0x13, 0x15, 0x16
TAG_RVALUE_REFERENCE, TAG_INHERITANCE, TAG_NAMESPACE = 0x42, 0x1C, 0x39
TAG_UNION, TAG_SUBRANGE, TAG_BASE, TAG_CONST, TAG_ENUMERATOR = 0x17, 0x21, 0x24, 0x26, 0x28
TAG_FORMAL_PARAMETER, TAG_UNSPECIFIED_PARAMETERS, TAG_VOLATILE, TAG_RESTRICT = (
    0x05,
    0x18,
    0x35,
    0x37,
)
TAG_ATOMIC, TAG_UNSPECIFIED_TYPE = 0x47, 0x3B
AT_BYTE_SIZE, AT_BIT_SIZE, AT_BIT_OFFSET, AT_DATA_BIT_OFFSET = 0x0B, 0x0D, 0x0C, 0x6B
AT_TYPE, AT_ENCODING, AT_UPPER_BOUND, AT_COUNT, AT_CONST_VALUE = 0x49, 0x3E, 0x2F, 0x37, 0x1C
AT_DATA_MEMBER_LOCATION, AT_PROTOTYPED = 0x38, 0x27
ATE_BOOLEAN, ATE_FLOAT, ATE_SIGNED, ATE_SIGNED_CHAR, ATE_UNSIGNED, ATE_UNSIGNED_CHAR = (
    2,
    4,
    5,
    6,
    7,
    8,
)
ATE_UTF = 0x10

QUALIFIERS = {
    TAG_CONST: "const",
    TAG_VOLATILE: "volatile",
    TAG_RESTRICT: "restrict",
    TAG_ATOMIC: "_Atomic",
}


@dataclass
class Member:
    name: str | None  # None for an anonymous struct or union member
    type: Type
    offset: int  # bytes from the start of the enclosing object
    bit_size: int | None = None
    bit_offset: int = 0  # bits from `offset`, little-endian numbering, for bitfields


@dataclass
class Type:
    kind: str  # base, pointer, struct, union, enum, array, typedef, qualifier, function, void
    name: str | None = None
    size: int = 0
    target: Type | None = None  # pointee, element, typedef target, qualified type, return type
    encoding: int | None = None
    qualifier: str | None = None
    members: list[Member] = field(default_factory=list)
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    dimensions: list[int | None] = field(default_factory=list)  # array bounds, outermost first
    parameters: list[Type] = field(default_factory=list)
    varargs: bool = False
    prototyped: bool = False
    declaration: bool = False

    def __repr__(self) -> str:
        # Types are cyclic (a struct holding a pointer to itself): never recurse.
        return f"Type({self.kind!r}, {self.name or self.qualifier!r}, size={self.size})"

    def strip(self) -> Type:
        """The type under any typedefs and qualifiers."""
        current = self
        while current.kind in ("typedef", "qualifier") and current.target is not None:
            current = current.target
        return current

    @property
    def byte_size(self) -> int:
        stripped = self.strip()
        if stripped.kind == "array":
            count = 1
            for dimension in stripped.dimensions:
                count *= dimension or 0
            return count * (stripped.target.byte_size if stripped.target else 0)
        return stripped.size

    @property
    def is_textual(self) -> bool:
        """One-byte integers print as characters, as GDB's c_textual_element_type."""
        base = self.strip()
        return (
            base.kind == "base" and base.size == 1 and base.encoding not in (ATE_BOOLEAN, ATE_FLOAT)
        )

    @property
    def is_signed(self) -> bool:
        return self.strip().encoding in (ATE_SIGNED, ATE_SIGNED_CHAR)


VOID = Type("void", "void")


class TypeReader:
    """Types by DIE offset, each built once and then shared by every coredump of the index.

    A type becomes visible to other threads only when the outermost build that needed
    it has finished: until then a struct may still be the placeholder its members point
    back to (a struct holding a pointer to itself), and a failed build leaves nothing.
    """

    def __init__(self, dies: DieReader):
        self._dies = dies
        self._definitions: dict[str, int] | None = None  # see _complete
        self._cache: dict[int, Type] = {}
        self._building: dict[int, Type] = {}
        self._lock = threading.RLock()

    def type_of(self, die: Die) -> Type:
        """The type a variable, member or parameter DIE declares (void if none)."""
        offset = die.reference(AT_TYPE)
        return VOID if offset is None else self.at(offset)

    def at(self, offset: int) -> Type:
        found = self._cache.get(offset)
        if found is not None:
            return found
        with self._lock:
            outermost = not self._building
            try:
                found = self._build_at(offset)
            except BaseException:
                if outermost:
                    self._building.clear()
                raise
            if outermost:
                self._cache.update(self._building)
                self._building.clear()
            return found

    def _build_at(self, offset: int) -> Type:
        found = self._cache.get(offset) or self._building.get(offset)
        if found is not None:
            return found
        die = self._dies.die(offset)
        if die is None:
            return Type("void", "<unknown type>")
        die = self._complete(die)
        placeholder = Type("void")
        self._building[offset] = placeholder  # breaks cycles (a struct pointing to itself)
        built = self._build(die)
        placeholder.__dict__.update(built.__dict__)
        return placeholder

    def _complete(self, die: Die) -> Die:
        """The definition of a struct, class or union this unit only declares.

        GCC describes a C++ class with virtual functions in full only in the unit that
        emits its vtable; elsewhere it is a declaration (DW_AT_declaration, no members),
        and GDB looks the complete type up by its qualified name (check_typedef), as it
        does for C's opaque `struct foo;`."""
        if die.tag not in _RECORDS or not die.has(c.AT_DECLARATION):
            return die  # (a declaration may list member functions, never data members)
        if self._definitions is None:
            with self._lock:
                self._definitions = self._definitions or _record_definitions(self._dies)
        found = self._definitions.get(qualified_name(die))
        complete = self._dies.die(found) if found is not None else None
        return complete if complete is not None and complete.tag == die.tag else die

    def _build(self, die: Die) -> Type:
        builder = _BUILDERS.get(die.tag)
        if builder is None:
            return Type("void", die.name or f"<unsupported type tag 0x{die.tag:x}>")
        return builder(self, die)

    def _target(self, die: Die) -> Type | None:
        offset = die.reference(AT_TYPE)
        return None if offset is None else self.at(offset)


def _base(reader: TypeReader, die: Die) -> Type:
    return Type("base", die.name, die.number(AT_BYTE_SIZE, 0), encoding=die.value(AT_ENCODING))


def _pointer(reader: TypeReader, die: Die) -> Type:
    return Type(
        "pointer", die.name, die.number(AT_BYTE_SIZE, 4), target=reader._target(die) or VOID
    )


def _reference(reader: TypeReader, die: Die) -> Type:
    """A C++ reference: GDB prints it as `@address: value` (generic_val_print_ref)."""
    size = die.value(AT_BYTE_SIZE, 4)
    return Type("reference", die.name, size, target=reader._target(die) or VOID)


def _typedef(reader: TypeReader, die: Die) -> Type:
    return Type("typedef", die.name, target=reader._target(die) or VOID)


def _qualifier(reader: TypeReader, die: Die) -> Type:
    return Type("qualifier", qualifier=QUALIFIERS[die.tag], target=reader._target(die) or VOID)


def _record(kind: str):
    def build(reader: TypeReader, die: Die) -> Type:
        record = Type(
            kind, die.name, die.number(AT_BYTE_SIZE, 0), declaration=die.has(c.AT_DECLARATION)
        )
        record.members = [
            _member(reader, child) if child.tag == TAG_MEMBER else _base_class(reader, child)
            for child in die.children
            if child.tag in (TAG_MEMBER, TAG_INHERITANCE)
        ]
        return record

    return build


def _member(reader: TypeReader, die: Die) -> Member:
    member_type = reader.type_of(die)
    # A location expression instead of a constant: only C++ virtual bases use those.
    offset = die.number(AT_DATA_MEMBER_LOCATION, 0)
    bit_size = die.number(AT_BIT_SIZE)
    bit_offset = 0
    data_bit_offset = die.number(AT_DATA_BIT_OFFSET)
    big_endian_bit_offset = die.number(AT_BIT_OFFSET)
    if data_bit_offset is not None:  # DWARF 4+: bits from the start of the object
        offset, bit_offset = data_bit_offset // 8, data_bit_offset % 8
    elif bit_size is not None and big_endian_bit_offset is not None:
        # DWARF 2/3: big-endian bit numbering within a storage unit of byte_size
        storage = die.number(AT_BYTE_SIZE, member_type.byte_size)
        total = offset * 8 + storage * 8 - big_endian_bit_offset - bit_size
        offset, bit_offset = total // 8, total % 8
    return Member(die.name, member_type, offset, bit_size, bit_offset)


def _base_class(reader: TypeReader, die: Die) -> Member:
    """A C++ base class, shown first among the members as `<Base> = {...}`
    (cp_print_value), named with its namespaces and enclosing classes."""
    offset = die.value(AT_DATA_MEMBER_LOCATION, 0)
    base = die.reference(AT_TYPE)
    base_die = reader._dies.die(base) if base is not None else None
    name = qualified_name(base_die) if base_die is not None else "?"
    return Member(f"<{name}>", reader.type_of(die), offset if isinstance(offset, int) else 0)


def qualified_name(die: Die) -> str:
    """A type's name with its enclosing namespaces and classes, as C++ spells it."""
    parts = [die.name or "?"]
    scope = die.parent
    while scope is not None:
        if scope.tag == TAG_NAMESPACE:
            parts.append(scope.name or "(anonymous namespace)")
        elif scope.tag in _RECORDS and scope.name:
            parts.append(scope.name)
        scope = scope.parent
    return "::".join(reversed(parts))


def _record_definitions(dies: DieReader) -> dict[str, int]:
    """Qualified name -> offset of the first complete struct, class or union of that
    name, over every unit (top level and inside namespaces and classes)."""
    found: dict[str, int] = {}
    pending = [
        die
        for unit in dies.units()
        for tag in (*_RECORDS, TAG_NAMESPACE)
        for die in dies.top_level(unit, tag)
        if die is not None
    ]
    while pending:
        die = pending.pop()
        if die.tag in _RECORDS and die.name and not die.has(c.AT_DECLARATION):
            found.setdefault(qualified_name(die), die.offset)
        pending += [child for child in die.children if child.tag in (*_RECORDS, TAG_NAMESPACE)]
    return found


def _enum(reader: TypeReader, die: Die) -> Type:
    enum = Type("enum", die.name, die.value(AT_BYTE_SIZE, 4), target=reader._target(die))
    for child in die.children:
        if child.tag == TAG_ENUMERATOR:
            enum.enumerators.append((child.name or "?", _signed_constant(child, enum.size)))
    return enum


def _signed_constant(die: Die, size: int) -> int:
    form, value = die.attributes.get(AT_CONST_VALUE, (None, 0))
    bits = {c.FORM_DATA1: 8, c.FORM_DATA2: 16, c.FORM_DATA4: 32}.get(form)
    if bits and value >= 1 << (bits - 1) and bits <= size * 8:
        value -= 1 << bits  # GCC writes negative enumerators as dataN
    return value


def _array(reader: TypeReader, die: Die) -> Type:
    dimensions = []
    for child in die.children:
        if child.tag == TAG_SUBRANGE:
            count, upper_bound = child.number(AT_COUNT), child.number(AT_UPPER_BOUND)
            if count is not None:
                dimensions.append(count)
            elif upper_bound is not None:
                dimensions.append(upper_bound + 1)
            else:
                dimensions.append(None)  # a flexible array member (or a VLA): no bound
    return Type("array", target=reader._target(die) or VOID, dimensions=dimensions or [None])


def _function(reader: TypeReader, die: Die) -> Type:
    function = Type(
        "function", target=reader._target(die) or VOID, prototyped=die.has(AT_PROTOTYPED)
    )
    for child in die.children:
        if child.tag == TAG_FORMAL_PARAMETER:
            function.parameters.append(reader.type_of(child))
        elif child.tag == TAG_UNSPECIFIED_PARAMETERS:
            function.varargs = True
    return function


def _unspecified(reader: TypeReader, die: Die) -> Type:
    return Type("void", die.name or "void")


_BUILDERS = {
    TAG_BASE: _base,
    TAG_POINTER: _pointer,
    TAG_REFERENCE: _reference,
    TAG_RVALUE_REFERENCE: _reference,
    TAG_TYPEDEF: _typedef,
    TAG_CONST: _qualifier,
    TAG_VOLATILE: _qualifier,
    TAG_RESTRICT: _qualifier,
    TAG_ATOMIC: _qualifier,
    TAG_STRUCT: _record("struct"),
    TAG_CLASS: _record("struct"),
    TAG_UNION: _record("union"),
    TAG_ENUM: _enum,
    TAG_ARRAY: _array,
    TAG_SUBROUTINE: _function,
    TAG_UNSPECIFIED_TYPE: _unspecified,
}


def member(record: Type, name: str) -> Member | None:
    """A struct or union member by name, looking into anonymous members too."""
    for candidate in record.strip().members:
        if candidate.name == name:
            return candidate
        if candidate.name is None:
            inner = member(candidate.type, name)
            if inner is not None:
                return Member(
                    inner.name,
                    inner.type,
                    candidate.offset + inner.offset,
                    inner.bit_size,
                    inner.bit_offset,
                )
    return None


_RECORDS = (TAG_STRUCT, TAG_CLASS, TAG_UNION)

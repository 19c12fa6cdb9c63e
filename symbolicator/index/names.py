"""Function names as GDB and binutils print them.

C is easy: a function's DW_AT_name is the name both tools print. For C++ and Rust
they differ, and neither is the bare DW_AT_name:

- GDB names a function by its DWARF scopes (dwarf2_compute_name): the namespaces,
  classes and anonymous namespaces around the declaration that DW_AT_specification
  and DW_AT_abstract_origin lead to, so `dre::sensors::Thermometer::sample`. For C++
  it adds the parameter types, and bt removes them again (cp_remove_params), except
  where GDB's C++ name parser cannot read the name (a lambda's `<lambda(int)>` in a
  template argument, an unnamed `struct {...}`): bt then shows the whole name.
- binutils' addr2line prints the linkage name (DW_AT_linkage_name) when DWARF has
  one, following the same links (bfd dwarf2.c find_abstract_instance), and with -C
  demangles it.

Only C++, Rust and D units are read this way; the DIEs they need are parsed on
demand (dwarf/dies.py), so indexing a C firmware costs nothing more.
"""

from __future__ import annotations

from typing import NamedTuple

import demangle as _demangle

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die, DieReader
from symbolicator.dwarf.info import Unit, walk
from symbolicator.dwarf.sections import DwarfSections

TAG_CLASS, TAG_ENUM, TAG_PARAMETER, TAG_POINTER, TAG_REFERENCE = 0x02, 0x04, 0x05, 0x0F, 0x10
TAG_STRUCT, TAG_TYPEDEF, TAG_UNION, TAG_BASE, TAG_CONST = 0x13, 0x16, 0x17, 0x24, 0x26
TAG_VOLATILE, TAG_NAMESPACE, TAG_RVALUE_REFERENCE = 0x35, 0x39, 0x42
AT_LANGUAGE, AT_TYPE, AT_ARTIFICIAL = 0x13, 0x49, 0x34
RECORDS = {TAG_CLASS: "class", TAG_STRUCT: "struct", TAG_UNION: "union", TAG_ENUM: "enum"}
# DW_LANG_* of languages with mangled linkage names (bfd dwarf2.c mangle_style).
LANG_CPLUS = frozenset({0x04, 0x19, 0x1A, 0x21, 0x2A, 0x2B})
LANG_MANGLED = LANG_CPLUS | {0x13, 0x1C}  # and D, Rust
ANONYMOUS_NAMESPACE = "(anonymous namespace)"


def demangled(name: str) -> str:
    """What `addr2line -C` prints for `name` (bfd_demangle with DMGL_PARAMS | DMGL_ANSI):
    Itanium C++ and Rust (legacy and v0) symbols demangled as GNU's demangler spells
    them, anything else unchanged."""
    return _demangle.demangle(name, language=("itanium", "rust"), style="gnu")


def gdb_symbol_name(name: str) -> str:
    """How GDB prints a minimal symbol: demangled (C++ with its parameter types), as
    `<vtable for Foo+8>` or a frame in a function without DWARF."""
    return demangled(name) if name.startswith(("_Z", "_R")) else name


def is_mangled_language(language: int | None) -> bool:
    return language in LANG_MANGLED


class ScopeFacts(NamedTuple):
    """What naming needs of a namespace, class or subprogram DIE of a C++ or Rust unit
    (a tuple: one per such DIE, from one walk of the unit, see unit_scopes)."""

    tag: int
    name: str | None
    linkage: str | None  # DW_AT_linkage_name (or DW_AT_MIPS_linkage_name)
    specification: int | None
    origin: int | None  # DW_AT_abstract_origin
    declaration: bool
    parent: int | None  # the enclosing namespace, class or subprogram


SCOPE_TAGS = frozenset({c.TAG_SUBPROGRAM, TAG_NAMESPACE, *RECORDS})


def unit_scopes(unit: Unit, found: dict[int, ScopeFacts]) -> None:
    """Record the unit's namespaces, classes and subprograms (declarations inside classes
    included) with their enclosing scope: one walk, jumping over everything else."""
    stack: list[tuple[int, int]] = []  # (depth, offset) of the enclosing scopes
    for die in walk(unit, SCOPE_TAGS, frozenset({c.TAG_LEXICAL_BLOCK})):
        while stack and stack[-1][0] >= die.depth:
            stack.pop()
        get = die.attributes.get
        name, linkage = get(c.AT_NAME), get(c.AT_LINKAGE_NAME) or get(c.AT_MIPS_LINKAGE_NAME)
        specification, origin = get(c.AT_SPECIFICATION), get(c.AT_ABSTRACT_ORIGIN)
        found[die.offset] = ScopeFacts(
            die.tag,
            unit.string(*name) if name else None,
            unit.string(*linkage) if linkage else None,
            unit.reference(*specification) if specification else None,
            unit.reference(*origin) if origin else None,
            c.AT_DECLARATION in die.attributes,
            stack[-1][1] if stack else None,
        )
        stack.append((die.depth, die.offset))


class Namer:
    """Names of DIEs of C++, Rust and D units, computed once each from their scopes
    (unit_scopes); DIEs are parsed only for the rare names that need parameter types."""

    def __init__(self, sections: DwarfSections, scopes: dict[int, ScopeFacts]):
        self._sections = sections
        self._scopes = scopes
        self._reader: DieReader | None = None
        self._gdb: dict[int, str] = {}
        self._prefixes: dict[int | None, str] = {None: ""}

    def gdb_name(self, offset: int, language: int | None) -> str:
        found = self._gdb.get(offset)
        if found is None:
            found = self._gdb[offset] = self._gdb_name(offset, language)
        return found

    def binutils_name(self, offset: int) -> tuple[str | None, bool]:
        """(name, whether it is a linkage name): the first DW_AT_linkage_name along
        the specification / abstract origin links, else the first DW_AT_name."""
        chain = self._chain(offset)
        linkage = next((link.linkage for link in chain if link.linkage), None)
        if linkage:
            return linkage, True
        return next((link.name for link in chain if link.name), None), False

    def declared_linkage_name(self, offset: int) -> str | None:
        """The linkage name GDB looks a call target up by (read_call_site_scope), if the
        DIE is a declaration: DW_AT_declaration found through DW_AT_abstract_origin
        and no DW_AT_specification (die_is_declaration), as GCC writes a constructor's
        C1 / C2 variants."""
        chain = self._chain(offset)
        if not any(link.declaration for link in chain):
            return None
        if any(link.specification is not None for link in chain):
            return None
        name, is_linkage = self.binutils_name(offset)
        return name if is_linkage else None

    def _chain(self, offset: int | None) -> list[ScopeFacts]:
        """The DIE, then the DIEs its DW_AT_specification or DW_AT_abstract_origin lead to."""
        chain, seen = [], set()
        while offset is not None and offset not in seen:
            facts = self._scopes.get(offset)
            if facts is None:
                break
            seen.add(offset)
            chain.append(facts)
            offset = facts.specification if facts.specification is not None else facts.origin
        return chain

    def _gdb_name(self, offset: int, language: int | None) -> str:
        chain = self._chain(offset)
        name = next((link.name for link in chain if link.name), None)
        if name is None:
            return "??"
        prefix = self._prefix(chain[-1].parent)
        full = f"{prefix}::{name}" if prefix else name
        if language in LANG_CPLUS and chain[0].tag == c.TAG_SUBPROGRAM and not _parseable(full):
            full += self._parameters(offset)
        return full

    def _prefix(self, offset: int | None) -> str:
        """GDB's determine_prefix: the qualified name of the scope a DIE is declared in."""
        found = self._prefixes.get(offset)
        if found is None:
            found = self._prefixes[offset] = self._scope_name(self._scopes.get(offset))
        return found

    def _scope_name(self, scope: ScopeFacts | None) -> str:
        if scope is None or scope.tag == c.TAG_SUBPROGRAM:
            return ""  # a local class: GDB gives it no prefix
        name = scope.name
        if scope.tag == TAG_NAMESPACE:
            name = name or ANONYMOUS_NAMESPACE
        elif not name:
            return ""  # an unnamed class: its members get no prefix either
        outer = self._prefix(scope.parent)
        return f"{outer}::{name}" if outer else name

    # -- parameter lists, for the names GDB cannot parse (read from the DIEs) ------------

    @property
    def reader(self) -> DieReader:
        if self._reader is None:
            self._reader = DieReader(self._sections)
        return self._reader

    def _parameters(self, offset: int) -> str:
        """The parameter list GDB appends (c_type_print_args): the types of the
        DIE's own formal parameters, in its order, without the artificial `this`."""
        die = self.reader.die(offset)
        types = []
        for child in die.children if die is not None else []:
            if child.tag != TAG_PARAMETER:
                continue
            chain = list(_die_chain(self.reader, child))
            if any(link.has(AT_ARTIFICIAL) for link in chain):
                continue
            typed = next((link for link in chain if link.has(AT_TYPE)), None)
            types.append(self._type_name(typed))
        return f"({', '.join(types) or 'void'})"

    def _type_name(self, owner: Die | None, depth: int = 0) -> str:
        """A type as GDB prints it in a parameter list."""
        target = owner.reference(AT_TYPE) if owner is not None else None
        die = self.reader.die(target) if target is not None and depth < 16 else None
        if die is None:
            return "void"
        if die.tag in (TAG_POINTER, TAG_REFERENCE, TAG_RVALUE_REFERENCE):
            inner = self._type_name(die, depth + 1)
            mark = {TAG_POINTER: "*", TAG_REFERENCE: "&", TAG_RVALUE_REFERENCE: "&&"}[die.tag]
            return f"{inner}{mark}" if inner.endswith(("*", "&")) else f"{inner} {mark}"
        if die.tag in (TAG_CONST, TAG_VOLATILE):
            word = "const" if die.tag == TAG_CONST else "volatile"
            inner = self._type_name(die, depth + 1)
            return f"{inner} {word}" if inner.endswith(("*", "&")) else f"{word} {inner}"
        if die.tag in RECORDS and not die.name:
            return f"{'struct' if die.tag == TAG_CLASS else RECORDS[die.tag]} {{...}}"
        prefix = _die_prefix(die.parent) if die.tag != TAG_BASE else ""
        name = die.name or "?"
        return f"{prefix}::{name}" if prefix else name


def _die_prefix(scope: Die | None) -> str:
    """_scope_name for a parsed DIE (a parameter's type)."""
    while scope is not None and scope.tag not in (TAG_NAMESPACE, *RECORDS):
        if scope.tag == c.TAG_SUBPROGRAM:
            return ""
        scope = scope.parent
    if scope is None:
        return ""
    name = scope.name
    if scope.tag == TAG_NAMESPACE:
        name = name or ANONYMOUS_NAMESPACE
    elif not name:
        return ""
    outer = _die_prefix(scope.parent)
    return f"{outer}::{name}" if outer else name


def _die_chain(reader: DieReader, die: Die):
    """The DIE, then the DIEs its DW_AT_specification or DW_AT_abstract_origin lead to."""
    seen = set()
    while die is not None and die.offset not in seen:
        seen.add(die.offset)
        yield die
        target = die.reference(c.AT_SPECIFICATION)
        if target is None:
            target = die.reference(c.AT_ABSTRACT_ORIGIN)
        die = reader.die(target) if target is not None else None


def _parseable(name: str) -> bool:
    """Whether GDB's C++ name parser reads `name`, so that bt can drop its parameters.
    It cannot read GCC's `<lambda(...)>` closure names nor unnamed `{...}` types."""
    return "<lambda" not in name and "{" not in name

"""Which variables a frame shows, as GDB's `info args` and `info locals` choose them.

- Arguments are the formal parameters of the frame's function, or of the
  inlined subroutine for an inline frame: the concrete DIE's children in
  order, then those of its abstract origin that have no concrete DIE (GDB's
  inherit_abstract_dies), which print as <optimized out>.
- Locals come from the innermost lexical block containing the pc, then each
  enclosing block up to the function, never past an inlined subroutine.
"""

from __future__ import annotations

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die, DieReader
from symbolicator.dwarf.ranges import die_ranges

TAG_FORMAL_PARAMETER, TAG_VARIABLE = 0x05, 0x34
AT_CONST_VALUE = 0x1C
CONSTANT_FORMS = {
    c.FORM_DATA1,
    c.FORM_DATA2,
    c.FORM_DATA4,
    c.FORM_DATA8,
    c.FORM_SDATA,
    c.FORM_UDATA,
    c.FORM_IMPLICIT_CONST,
}
SCOPE_TAGS = (c.TAG_SUBPROGRAM, c.TAG_INLINED_SUBROUTINE)


def arguments(scope: Die, dies: DieReader) -> list[Die]:
    return Scopes(dies).arguments(scope)


def locals_at(scope: Die, pc: int, dies: DieReader) -> list[Die]:
    return Scopes(dies).locals_at(scope, pc)


class Scopes:
    """Arguments and locals of scopes of one DieReader, remembering per DIE what does not
    depend on the pc: a scope's variables and its lexical blocks' ranges. Kept with the
    index (variables/debug_info.py), so at most one entry per DIE."""

    def __init__(self, dies: DieReader):
        self._dies = dies
        self._variables: dict[tuple[int, int], list[Die]] = {}  # by (scope, tag)
        self._ranges: dict[int, list[tuple[int, int]]] = {}  # by lexical block

    def arguments(self, scope: Die) -> list[Die]:
        return self._declared(scope, TAG_FORMAL_PARAMETER)

    def locals_at(self, scope: Die, pc: int) -> list[Die]:
        """Local variables visible at pc, innermost block first.

        GDB's `info locals` skips variables whose DW_AT_const_value is a block or a
        string: it keeps them as LOC_CONST_BYTES symbols, which it does not list
        (stack.c iterate_over_block_locals), while integer constants are listed.
        """
        found: list[Die] = []
        for block in reversed(self._blocks_at(scope, pc)):
            found += self._declared(block, TAG_VARIABLE)
        return found

    def _declared(self, scope: Die, tag: int) -> list[Die]:
        key = (scope.offset, tag)
        found = self._variables.get(key)
        if found is None:
            found = _with_inherited(scope, self._dies, tag)
            if tag == TAG_VARIABLE:
                found = [die for die in found if not _constant_bytes(die)]
            self._variables[key] = found
        return found

    def _blocks_at(self, scope: Die, pc: int) -> list[Die]:
        """The scope and the nested lexical blocks containing pc, outermost first."""
        chain, current = [scope], scope
        while True:
            inner = next(
                (
                    child
                    for child in current.children
                    if child.tag == c.TAG_LEXICAL_BLOCK and self._contains(child, pc)
                ),
                None,
            )
            if inner is None:
                return chain
            chain.append(inner)
            current = inner

    def _contains(self, block: Die, pc: int) -> bool:
        ranges = self._ranges.get(block.offset)
        if ranges is None:
            ranges = self._ranges[block.offset] = die_ranges(block.unit, block.attributes)
        return not ranges or any(low <= pc < high for low, high in ranges)


def _constant_bytes(die: Die) -> bool:
    form = die.form(AT_CONST_VALUE)
    return form is not None and form not in CONSTANT_FORMS


def _with_inherited(die: Die, dies: DieReader, tag: int) -> list[Die]:
    concrete = [child for child in die.children if child.tag == tag]
    origin_offset = die.reference(c.AT_ABSTRACT_ORIGIN)
    origin = dies.die(origin_offset) if origin_offset is not None else None
    if origin is None:
        return concrete
    covered = {child.reference(c.AT_ABSTRACT_ORIGIN) for child in die.children}
    inherited = []
    for child in origin.children:
        if child.offset in covered:
            continue
        if child.tag == tag:
            inherited.append(child)
        elif child.tag == c.TAG_LEXICAL_BLOCK and tag == TAG_VARIABLE:
            inherited += _flattened(child)
    return concrete + inherited


def _flattened(block: Die) -> list[Die]:
    """The variables of an abstract lexical block no concrete block stands for: GDB reads
    it in the concrete scope, and a block without addresses adds its children to the
    enclosing one (dwarf2/read.c read_lexical_block_scope, PC_BOUNDS_NOT_PRESENT), so
    they are listed, <optimized out>, after the scope's own (GCC's inlined lambdas)."""
    found = []
    for child in block.children:
        if child.tag == TAG_VARIABLE:
            found.append(child)
        elif child.tag == c.TAG_LEXICAL_BLOCK:
            found += _flattened(child)
    return found


def declaring_die(die: Die, dies: DieReader) -> Die:
    """The DIE with the name and type: the abstract origin of a concrete instance,
    or the declaration a definition refers to with DW_AT_specification."""
    seen = set()
    while die.offset not in seen:
        seen.add(die.offset)
        origin = die.reference(c.AT_ABSTRACT_ORIGIN) or die.reference(c.AT_SPECIFICATION)
        if origin is None or (die.name and die.has(0x49)):
            return die
        found = dies.die(origin)
        if found is None:
            return die
        die = found
    return die


def frame_base_die(scope: Die) -> Die | None:
    """The nearest enclosing DIE with DW_AT_frame_base (the concrete function)."""
    current = scope
    while current is not None:
        if current.has(0x40):  # DW_AT_frame_base
            return current
        current = current.parent
    return None

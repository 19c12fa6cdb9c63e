"""What reading variables derives from one index's DWARF, kept with the index.

Parsed DIEs, types, each function's call sites by return address, whether a
function may tail-call itself, and decoded location lists depend on the ELF
alone: every coredump of a firmware needs the same ones, so they are built
on first use and kept as long as the loaded index (one per build id in a
worker). Each cache holds at most one entry per DIE, function or location
list of the index, so it is bounded by the index, and none depends on a
coredump, so a warm run returns exactly what a cold one does.
"""

from __future__ import annotations

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die, DieReader
from symbolicator.dwarf.loclists import LocationList, location_list
from symbolicator.variables import scopes
from symbolicator.variables.types import Type, TypeReader

CALL_SITE_TAGS = (c.TAG_CALL_SITE, c.TAG_GNU_CALL_SITE)


class DebugInfo:
    def __init__(self, dies: DieReader):
        self.dies = dies
        self.types = TypeReader(dies)
        self.scopes = scopes.Scopes(dies)
        self.tail_calls_itself: dict[int, bool] = {}  # by function entry, see VariableReader
        self._call_sites: dict[int, dict[int, Die]] = {}
        self._declarations: dict[int, tuple[Die, Type]] = {}
        self._location_lists: dict[tuple[int, int, int], LocationList] = {}
        self._globals: list[tuple[str, Die]] | None = None
        self._globals_by_name: dict[str, list[tuple[str, Die]]] | None = None

    def declaration(self, die: Die) -> tuple[Die, Type]:
        """The DIE that names a variable (see scopes.declaring_die), and its type."""
        found = self._declarations.get(die.offset)
        if found is None:
            declared = scopes.declaring_die(die, self.dies)
            found = self._declarations[die.offset] = (declared, self.types.type_of(declared))
        return found

    def call_site(self, function_scope: int, return_pc: int) -> Die | None:
        """The DW_TAG_call_site in the function whose call returns to `return_pc`."""
        found = self._call_sites.get(function_scope)
        if found is None:
            found = self._call_sites[function_scope] = _call_sites(self.dies.die(function_scope))
        return found.get(return_pc)

    def expression_at(self, die: Die, name: int, pc: int) -> bytes | None:
        """The expression of a location-list attribute (DW_AT_location, DW_AT_frame_base)
        that applies at `pc`; the list is decoded once."""
        form, value = die.attributes[name]
        key = (die.unit.offset, form, value)
        found = self._location_lists.get(key)
        if found is None:
            found = self._location_lists[key] = location_list(die.unit, form, value)
        return found.at(pc)

    def global_definitions(self) -> list[tuple[str, Die]]:
        """(unit name, DIE) of every variable defined at a unit's top level, in order."""
        if self._globals is None:
            found = []
            for unit_offset in self.dies.units():
                unit_name = self.dies.unit(unit_offset).name()
                found += [
                    (unit_name, die)
                    for die in self.dies.top_level(unit_offset, scopes.TAG_VARIABLE)
                    if not die.has(c.AT_DECLARATION)
                ]
            self._globals = found
        return self._globals

    def globals_named(self, name: str) -> list[tuple[str, Die]]:
        if self._globals_by_name is None:
            found: dict[str, list[tuple[str, Die]]] = {}
            for unit_name, die in self.global_definitions():
                declared = scopes.declaring_die(die, self.dies).name
                found.setdefault(declared, []).append((unit_name, die))
            self._globals_by_name = found
        return self._globals_by_name.get(name, [])


def debug_info_for(index) -> DebugInfo:
    return index.derived("variables", lambda index: DebugInfo(DieReader(index.dwarf_sections())))


def _call_sites(function: Die | None) -> dict[int, Die]:
    """A function's call sites by return address (bit 0 cleared), the first in DIE
    order where two share one."""
    found: dict[int, Die] = {}
    stack = [function] if function else []
    while stack:
        die = stack.pop()
        if die.tag in CALL_SITE_TAGS:
            pc = die.attributes.get(c.AT_CALL_RETURN_PC) or die.attributes.get(c.AT_LOW_PC)
            if pc:
                found.setdefault(die.unit.address(*pc) & ~1, die)
        stack.extend(reversed(die.children))
    return found

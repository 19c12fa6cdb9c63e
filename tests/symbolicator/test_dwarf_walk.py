"""The DIE walker behind the index: it yields the DIEs asked for and jumps over the
subtrees the index does not read (DW_AT_sibling, DWARF 5 section 2.3)."""

from symbolicator.dwarf import constants as c
from symbolicator.dwarf.info import iter_units, walk
from symbolicator.dwarf.sections import DwarfSections
from symbolicator.elf import ElfImage
from tests.firmware_fixtures import elf_path

CALL_SITES = frozenset({c.TAG_CALL_SITE, c.TAG_GNU_CALL_SITE})
PARAMETERS = frozenset({0x49, 0x410A})  # DW_TAG_call_site_parameter, GNU_call_site_parameter
WANTED = frozenset({c.TAG_SUBPROGRAM}) | CALL_SITES | PARAMETERS
DESCEND = frozenset({c.TAG_LEXICAL_BLOCK, c.TAG_INLINED_SUBROUTINE})


def walked(leaves=frozenset()):
    sections = DwarfSections(**ElfImage(elf_path("an385-O2").read_bytes()).dwarf_sections())
    return [
        (die.offset, die.tag, die.depth)
        for unit in iter_units(sections)
        for die in walk(unit, WANTED, DESCEND, leaves)
    ]


def without_parameters(dies):
    return [die for die in dies if die[1] not in PARAMETERS]


def test_it_jumps_over_a_leafs_children_where_the_leaf_has_a_sibling_link():
    everything = walked()
    leaves = walked(leaves=CALL_SITES)

    # GCC links a call site to its sibling only where one follows: the parameters of
    # the others are walked, as they must be to find where the next DIE begins.
    assert len(without_parameters(everything)) < len(leaves) < len(everything)
    assert without_parameters(leaves) == without_parameters(everything)

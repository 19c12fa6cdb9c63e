"""The index reads a compilation unit on the first lookup inside it, as GDB expands a
unit on demand (symbolicator/index/units.py): the build reads each unit's header and
ranges only, and every answer is the one an index that read all its units gives."""

import threading
from dataclasses import replace

import pytest

import symbolicator
from symbolicator.index.units import _blocks, _joined
from tests.firmware_fixtures import coredump_path, elf_path

# C, C++ (names through DWARF scopes), clang (DWARF 5 idioms), Zephyr.
BUILDS = ["an385-O2", "cxx-an385-O2", "clang-an385-O2", "zephyr-an385-O2"]


def answers(index, addresses) -> list:
    """Everything a lookup at each address gives, as plain values."""
    found = []
    for address in addresses:
        function = index.function_at(address)
        row = [address, function, index.line_at(address), index.line_entry(address)]
        row += [index.addr2line_at(address), index.addr2line_function(address)]
        if function is not None and function.has_dwarf:
            # File ids are the loaded index's own: compared by the names they stand for.
            chain = index.inline_chain(function, address)
            row += [[replace(entry, call_file=index.file_name(entry.call_file)) for entry in chain]]
            row += [index.call_site(function, address), index.tail_calls(function)]
            row += [index.subprogram_die(function)]
        found.append(row)
    return found


def code_addresses(index) -> list[int]:
    return [
        address
        for start, end, is_code in index.meta["sections"]
        if is_code
        for address in range(start, end + 2, 2)
    ]


def expansion(index):
    return index._derived.get("expansion")


@pytest.mark.parametrize("build", BUILDS)
def test_it_answers_every_address_as_an_index_that_read_every_unit(build):
    elf = elf_path(build).read_bytes()
    eager = symbolicator.build_index(elf)
    eager.read_all_units()
    lazy = symbolicator.SymbolIndex.from_bytes(symbolicator.build_index(elf).to_bytes())
    addresses = code_addresses(eager)

    # Backwards: the order in which units are read changes no answer.
    assert answers(lazy, reversed(addresses)) == list(reversed(answers(eager, addresses)))


def test_the_build_reads_no_unit_beyond_its_first_die():
    index = symbolicator.build_index(elf_path("an385-O2").read_bytes())

    assert expansion(index) is None
    assert len(index.units) == 20


def test_a_lookup_reads_only_the_units_with_code_in_its_block():
    index = symbolicator.build_index(elf_path("an385-O2").read_bytes())
    function = index.function_at(index.symbol_named("sensor_read_celsius").address)

    assert function.name == "sensor_read_celsius"
    assert len(expansion(index)._scans) == 1


def test_a_first_symbolication_reads_the_units_its_frames_are_in_and_no_more():
    index = symbolicator.build_index(elf_path("zephyr-an385-O2").read_bytes())
    coredump = symbolicator.parse_coredump(
        coredump_path("zephyr-an385-O2", "task_fault").read_bytes()
    )

    symbolicator.symbolicate(coredump, index)

    assert 0 < len(expansion(index)._scans) < len(index.units)


def test_the_stored_index_is_the_same_bytes_whatever_was_looked_up_before():
    index = symbolicator.build_index(elf_path("cxx-an385-O2").read_bytes())
    before = index.to_bytes()

    index.read_all_units()

    assert index.to_bytes() == before
    assert index.to_bytes(elf_sections=False) == index.to_bytes(elf_sections=False)


def test_threads_sharing_a_loaded_index_get_the_same_answers():
    elf = elf_path("zephyr-an385-O2").read_bytes()
    blob = symbolicator.build_index(elf).to_bytes()
    expected = answers(
        symbolicator.SymbolIndex.from_bytes(blob), code_addresses(symbolicator.build_index(elf))
    )
    shared = symbolicator.SymbolIndex.from_bytes(blob)
    results = [None] * 4

    def look_up(n):
        results[n] = answers(shared, code_addresses(shared))

    threads = [threading.Thread(target=look_up, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected] * 4


def test_overlapping_ranges_of_different_units_make_one_block():
    # The functions a linker dropped all sit at address 0 (low_pc 0 after relocation).
    blocks = _blocks([(0x0, 0x40, 0), (0x0, 0x88, 1), (0x20, 0x30, 2), (0x400, 0x420, 0)])

    assert blocks == [(0x0, 0x88, [0, 1, 2]), (0x400, 0x420, [0])]


def test_ranges_of_different_units_that_only_touch_stay_apart():
    blocks = _blocks([(0x400, 0x420, 0), (0x420, 0x440, 1)])

    assert blocks == [(0x400, 0x420, [0]), (0x420, 0x440, [1])]


def test_a_units_own_touching_ranges_are_one_so_a_function_lies_in_one_block():
    assert _joined([(0x440, 0x460), (0x400, 0x420), (0x420, 0x440), (0x500, 0x510)]) == [
        (0x400, 0x460),
        (0x500, 0x510),
    ]

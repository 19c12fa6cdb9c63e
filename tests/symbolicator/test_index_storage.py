"""A stored index may leave the ELF's DWARF and read-only sections in the ELF, which dre
keeps next to it: the index is then smaller than the ELF, or about as large for
the small test firmware whose line tables outweigh its DWARF, and loading it with the
ELF gives the same answers as the self-contained one."""

import pytest

import symbolicator
from symbolicator.index.container import IndexFormatError
from tests.firmware_fixtures import coredump_path, elf_path

BUILDS = [("an385-O2", "null_write"), ("zephyr-an385-O2", "task_fault")]


def symbolicated(index, build: str, scenario: str) -> dict:
    coredump = symbolicator.parse_coredump(coredump_path(build, scenario).read_bytes())
    return symbolicator.symbolicate(coredump, index).to_dict()


@pytest.mark.parametrize(("build", "scenario"), BUILDS)
def test_it_answers_as_the_self_contained_index_when_loaded_with_its_elf(build, scenario):
    elf = elf_path(build).read_bytes()
    index = symbolicator.build_index(elf)

    loaded = symbolicator.SymbolIndex.from_bytes(index.to_bytes(elf_sections=False), elf)
    whole = symbolicator.SymbolIndex.from_bytes(index.to_bytes())

    assert symbolicated(loaded, build, scenario) == symbolicated(whole, build, scenario)
    assert {k: bytes(v) for k, v in loaded.dwarf.items()} == index.dwarf
    assert [bytes(s.data) for s in loaded.read_only] == [s.data for s in index.read_only]


@pytest.mark.parametrize("build", [build for build, _ in BUILDS])
def test_it_is_at_most_one_and_a_half_times_its_elf_without_the_elfs_sections(build):
    # Issue 8's size target. Self-contained, these indexes are 1.65x their ELF.
    elf = elf_path(build).read_bytes()

    stored = symbolicator.build_index(elf).to_bytes(elf_sections=False)

    assert len(stored) <= 1.5 * len(elf)


def test_it_says_whether_it_needs_its_elf():
    index = symbolicator.build_index(elf_path("an385-O2").read_bytes())

    assert symbolicator.SymbolIndex.needs_elf(index.to_bytes(elf_sections=False))
    assert not symbolicator.SymbolIndex.needs_elf(index.to_bytes())


def test_it_refuses_to_load_without_the_elf_it_reads_from():
    stored = symbolicator.build_index(elf_path("an385-O2").read_bytes()).to_bytes(
        elf_sections=False
    )

    with pytest.raises(IndexFormatError, match="load it with the ELF's bytes"):
        symbolicator.SymbolIndex.from_bytes(stored)


def test_it_refuses_another_elf():
    stored = symbolicator.build_index(elf_path("an385-O2").read_bytes()).to_bytes(
        elf_sections=False
    )

    with pytest.raises(IndexFormatError, match="the one this index was built from"):
        symbolicator.SymbolIndex.from_bytes(stored, elf_path("an386-O2").read_bytes())


def test_it_refuses_an_elf_of_the_same_size_whose_sections_differ():
    elf = bytearray(elf_path("an385-O2").read_bytes())
    index = symbolicator.build_index(bytes(elf))
    stored = index.to_bytes(elf_sections=False)
    offset, size = index.meta["elf"]["sections"]["dwarf.info"]
    elf[offset + size // 2] ^= 0xFF

    with pytest.raises(IndexFormatError, match=r"dwarf\.info differs"):
        symbolicator.SymbolIndex.from_bytes(stored, bytes(elf))

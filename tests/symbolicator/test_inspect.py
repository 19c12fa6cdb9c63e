"""Memory rows, disassembly and expandable variables, on a real fixture."""

import pytest

from symbolicator import parse_coredump
from symbolicator.inspect import (
    disassemble,
    expand,
    frame_variables,
    memory_rows,
    regions,
    resolve_address,
)
from symbolicator.symbolicate import coredump_memory
from symbolicator.variables import VariableReader
from tests.firmware_fixtures import coredump_path
from tests.symbolicator.gdb_reference import index_for


@pytest.fixture(scope="module")
def crash():
    index = index_for("an385-O0")
    coredump = parse_coredump(coredump_path("an385-O0", "null_write").read_bytes())
    memory = coredump_memory(coredump, index)
    return index, coredump, memory, VariableReader(index, memory)


def test_memory_rows_mark_what_was_captured(crash):
    _, _, memory, reader = crash
    rows = memory_rows(memory, 0x20000950, 32, reader.symbolize)

    assert [row.address for row in rows] == [0x20000950, 0x20000960]
    assert rows[0].symbol == "<s_main_stack+1872>"
    assert all(source == "coredump" for source in rows[0].sources)
    assert memory_rows(memory, 0x30000000, 16)[0].bytes == [None] * 16


def test_regions_list_the_dump_and_the_elfs_read_only_sections(crash):
    index, _, memory, _ = crash
    found = regions(memory, index)

    assert {r.source for r in found} == {"coredump", "elf"}
    assert any(r.start == 0x20000000 and r.source == "coredump" for r in found)


def test_captured_regions_are_named_by_system_block_or_by_symbol(crash):
    index, _, memory, _ = crash
    names = {r.start: r.name for r in regions(memory, index) if r.source == "coredump"}

    assert names[0xE000ED24] == "SCB: SHCSR, CFSR, HFSR, DFSR, MMFAR, BFAR, AFSR"
    assert names[0xE000E100] == "NVIC ISER"
    assert names[0x20000000] == index.symbol_at(0x20000000)[0]  # RAM, named by its first symbol


def test_addresses_resolve_from_hex_and_symbols(crash):
    index = crash[0]

    assert resolve_address("0x20", index) == 0x20
    assert (
        resolve_address("g_dre_scheduler+4", index)
        == index.symbol_named("g_dre_scheduler").address + 4
    )
    assert resolve_address("nope", index) is None


def test_disassembly_marks_the_pc_lines_and_branch_targets(crash):
    index, coredump, memory, reader = crash
    pc = coredump.registers["pc"] & ~1
    window = disassemble(index, memory, pc, 6, 4, reader.symbolize)

    at_pc = next(i for i in window if i.is_pc)
    assert (at_pc.mnemonic, at_pc.operands) == ("str", "r2, [r3]")
    assert "src/storage.c:26" in [i.source for i in window]
    caller = disassemble(index, memory, 0x1908, 4, 0, reader.symbolize)
    assert any(i.target_name == "<record_word_store>" for i in caller)


def test_frame_variables_expand_one_level_at_a_time(crash):
    index, coredump, _, _ = crash
    local = frame_variables(coredump, index, 0, 4)["locals"][0]
    members = expand(coredump, index, local.root, local.path)

    assert local.name == "reading"
    assert local.expandable
    assert [(m.name, m.text) for m in members][:2] == [("sensor_id", "5"), ("raw", "-42")]


def test_globals_expand_through_arrays_and_pointers(crash):
    index, coredump, _, _ = crash
    root = {"global": "g_dre_scheduler"}
    threads = expand(coredump, index, root, [4])
    first = expand(coredump, index, root, [4, 0])
    pointer = expand(coredump, index, root, [3])

    assert threads[0].name == "[0]"
    assert first[0].text == '0x20d4 "main"' or first[0].text.endswith('"main"')
    assert pointer[0].name == "*"
    assert pointer[0].expandable

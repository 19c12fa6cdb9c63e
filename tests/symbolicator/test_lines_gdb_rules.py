"""GDB's and binutils' line-table rules, each on a few hand-built rows.

GDB 13: gdb/dwarf2/read.c lnp_state_machine::record_line and dwarf_record_line_p (which
rows reach a file's table), buildsym.c record_line (a line-0 marker deletes the rows at its
own address) and end_compunit_symtab (stable sort, line-0 markers first), symtab.c
find_pc_sect_line (the latest row across the unit's files, main file first; a
non-statement row yields to a statement row at the same address). binutils 2.40:
bfd/dwarf2.c add_line_info (of rows at one address the last wins, PR ld/4986).
"""

from __future__ import annotations

from symbolicator.dwarf.lines import Rows
from symbolicator.index.lines import NO_FILE, LineTable, UnitLines, bfd_steps, resolve_steps

MAIN, HEADER, OTHER = 1, 2, 3  # file ids; MAIN is the unit's own source file


def rows(*entries: tuple) -> Rows:
    """Rows from (address, file, line[, flags]) tuples; flags is a string holding 'n' for
    not a statement, 'd' for a line that had a non-zero discriminator, 'e' for the end of
    the sequence."""
    built = Rows()
    for address, file, line, *rest in entries:
        flags = rest[0] if rest else ""
        built.add(
            address,
            file,
            line,
            is_stmt="n" not in flags,
            end="e" in flags,
            discriminated="d" in flags,
        )
    return built


def unit_of(*sequences: Rows, main: int = MAIN) -> UnitLines:
    unit = UnitLines(main)
    for sequence in sequences:
        unit.add_rows(sequence, 0, len(sequence), skip_sequence_at_zero=True)
    return unit


def table(unit: UnitLines) -> LineTable:
    return LineTable.build(resolve_steps(unit))


def entries(unit: UnitLines, file: int) -> list[tuple[int, int]]:
    return [(e.address, e.line) for e in unit.subfiles[file].entries]


# -- step 1: which rows reach a file's table --------------------------------------------------


def test_a_file_switch_ends_the_previous_files_range_with_a_line_0_entry():
    unit = unit_of(
        rows((0x100, MAIN, 10), (0x104, HEADER, 20), (0x108, MAIN, 11), (0x10C, MAIN, 0, "e"))
    )

    assert entries(unit, MAIN) == [(0x100, 10), (0x104, 0), (0x108, 11), (0x10C, 0)]
    assert entries(unit, HEADER) == [(0x104, 20), (0x108, 0)]


def test_a_non_statement_row_where_another_file_has_a_statement_is_dropped():
    # GDB: "ignore_this_line": a file switch at the same address, not a statement, while
    # a statement row was already seen at that address.
    unit = unit_of(
        rows((0x100, MAIN, 10), (0x100, HEADER, 20, "n"), (0x104, MAIN, 11), (0x108, 0, 0, "e"))
    )

    assert HEADER not in unit.subfiles
    assert entries(unit, MAIN) == [(0x100, 10), (0x104, 11), (0x108, 0)]
    assert table(unit).lookup(0x100) == (MAIN, 10)


def test_a_non_statement_row_at_a_new_address_in_another_file_is_kept():
    unit = unit_of(rows((0x100, MAIN, 10), (0x102, HEADER, 20, "n"), (0x108, 0, 0, "e")))

    assert entries(unit, HEADER) == [(0x102, 20), (0x108, 0)]
    assert table(unit).entry(0x104) == (0x102, False)


def test_a_statement_row_in_another_file_at_the_same_address_is_kept():
    unit = unit_of(rows((0x100, MAIN, 10), (0x100, HEADER, 20), (0x108, 0, 0, "e")))

    # MAIN's row at 0x100 is replaced by its own line-0 marker there (buildsym record_line).
    assert entries(unit, MAIN) == [(0x100, 0)]
    assert entries(unit, HEADER) == [(0x100, 20), (0x108, 0)]
    assert table(unit).lookup(0x100) == (HEADER, 20)


def test_repeated_rows_of_a_discriminated_line_are_coalesced():
    # PR 17276: a loop body split by discriminators keeps one row per line. Checked on
    # tests/fixtures/an386-O2 (app.c:97 has rows at 0x47e, 0x482 and 0x486, the last two
    # discriminated): GDB 13 `info line *0x486` says 'Line 97 of "src/app.c" starts at
    # address 0x47e <sensor_thread+26>'.
    unit = unit_of(
        rows((0x100, MAIN, 10, "d"), (0x104, MAIN, 10, "d"), (0x108, MAIN, 11), (0x10C, 0, 0, "e"))
    )

    assert entries(unit, MAIN) == [(0x100, 10), (0x108, 11), (0x10C, 0)]
    assert table(unit).entry(0x106) == (0x100, True)


def test_repeated_rows_of_a_line_without_discriminator_are_all_kept():
    unit = unit_of(
        rows((0x100, MAIN, 10), (0x104, MAIN, 10), (0x108, MAIN, 11), (0x10C, 0, 0, "e"))
    )

    assert entries(unit, MAIN) == [(0x100, 10), (0x104, 10), (0x108, 11), (0x10C, 0)]
    assert table(unit).entry(0x106) == (0x104, True)


def test_a_line_0_marker_removes_the_rows_at_its_own_address():
    # The MAIN row at 0x104 is at the address where the switch to HEADER ends MAIN's
    # range: the marker replaces it. On tests/fixtures/an386-O2, fault.c:38 at 0x90c is
    # followed by board.h rows at 0x90c: `info line *0x90c` says 'Line 67 of
    # "src/board.h" starts at address 0x90c <fault_init+28>'.
    unit = unit_of(
        rows((0x100, MAIN, 10), (0x104, MAIN, 12), (0x104, HEADER, 20), (0x108, 0, 0, "e"))
    )

    assert entries(unit, MAIN) == [(0x100, 10), (0x104, 0)]
    assert table(unit).lookup(0x104) == (HEADER, 20)


def test_a_line_0_row_in_the_program_is_ignored():
    # Not a marker of GDB's own: "!end_sequence && m_line == 0" ignores the row.
    unit = unit_of(rows((0x100, MAIN, 10), (0x104, MAIN, 0), (0x108, 0, 0, "e")))

    assert entries(unit, MAIN) == [(0x100, 10), (0x108, 0)]
    assert table(unit).lookup(0x106) == (MAIN, 10)


def test_a_sequence_at_address_0_of_a_unit_elsewhere_is_skipped():
    # A function the linker dropped keeps its rows at 0 (gdb/dwarf2/read.c
    # lnp_state_machine::check_line_address).
    dropped = rows((0x0, MAIN, 5), (0x8, 0, 0, "e"))
    kept = rows((0x100, MAIN, 10), (0x108, 0, 0, "e"))

    unit = unit_of(dropped, kept)

    assert entries(unit, MAIN) == [(0x100, 10), (0x108, 0)]
    assert table(unit).lookup(0x4) is None


# -- steps 2 and 3: sorting and choosing across files -----------------------------------------


def test_the_latest_row_at_or_before_the_address_wins_across_files():
    # Two sequences: HEADER covers 0x100-0x120, MAIN has a later row inside it.
    unit = unit_of(
        rows((0x100, HEADER, 30), (0x120, 0, 0, "e")),
        rows((0x108, MAIN, 5), (0x110, 0, 0, "e")),
    )
    lines = table(unit)

    assert lines.lookup(0x104) == (HEADER, 30)
    assert lines.lookup(0x10C) == (MAIN, 5)
    # MAIN's range ended at 0x110 with a line-0 marker, which is never a winner:
    # HEADER's older row answers again.
    assert lines.lookup(0x110) == (HEADER, 30)


def test_a_tie_goes_to_the_units_main_file_whichever_file_came_first():
    # HEADER's rows come first; the main file's filetab is searched first all the same.
    def at_0x100(main: int):
        header_first = (
            rows((0x100, HEADER, 30), (0x110, 0, 0, "e")),
            rows((0x100, MAIN, 5), (0x110, 0, 0, "e")),
        )
        return table(unit_of(*header_first, main=main)).lookup(0x100)

    assert at_0x100(main=MAIN) == (MAIN, 5)
    assert at_0x100(main=HEADER) == (HEADER, 30)


def test_a_non_statement_winner_yields_to_a_statement_row_at_the_same_address():
    # tests/fixtures/an386-O2 has app.c rows 80 (stmt), 81 (stmt), 80 (not stmt) at 0x400:
    # `info line *0x400` says 'Line 81 of "src/app.c" starts at address 0x400'.
    unit = unit_of(rows((0x100, MAIN, 10), (0x100, MAIN, 11, "n"), (0x108, 0, 0, "e")))

    assert entries(unit, MAIN) == [(0x100, 10), (0x100, 11), (0x108, 0)]
    assert table(unit).lookup(0x104) == (MAIN, 10)
    assert table(unit).entry(0x104) == (0x100, True)


def test_a_non_statement_row_alone_is_reported_as_one():
    unit = unit_of(rows((0x100, MAIN, 10), (0x104, MAIN, 11, "n"), (0x10C, 0, 0, "e")))
    lines = table(unit)

    assert lines.lookup(0x108) == (MAIN, 11)
    assert lines.entry(0x108) == (0x104, False)
    assert lines.entry(0x102) == (0x100, True)


def test_no_line_before_the_first_row_and_after_the_end_of_the_sequence():
    lines = table(unit_of(rows((0x100, MAIN, 10), (0x108, 0, 0, "e"))))

    assert lines.lookup(0xFE) is None
    assert lines.lookup(0x108) is None
    assert lines.entry(0x108) is None


def test_line_0_markers_sort_before_rows_at_the_same_address():
    # buildsym.c end_compunit_symtab: lte_is_less_than puts line 0 first at one pc, so a
    # range that ends where the next begins does not hide the new row.
    unit = unit_of(
        rows((0x100, MAIN, 10), (0x108, 0, 0, "e")),
        rows((0x108, MAIN, 20), (0x110, 0, 0, "e")),
    )

    assert [e.line for e in unit.ordered_subfiles()[0][1]] == [10, 0, 20, 0]
    assert table(unit).lookup(0x108) == (MAIN, 20)


# -- binutils' addr2line rules (bfd_steps) --------------------------------------------------------

PATHS = {MAIN: 101, HEADER: 102}


def test_bfd_keeps_the_last_row_at_an_address():
    steps = bfd_steps(
        rows((0x100, MAIN, 10), (0x100, HEADER, 12), (0x104, MAIN, 13), (0x108, 0, 0, "e")),
        0,
        4,
        PATHS,
    )

    assert [(a, f, line) for a, f, line, *_ in steps] == [
        (0x100, 102, 12),
        (0x104, 101, 13),
        (0x108, NO_FILE, 0),
    ]


def test_bfd_ignores_is_stmt_and_names_files_by_their_full_path():
    steps = bfd_steps(rows((0x100, MAIN, 10, "n"), (0x104, 0, 0, "e")), 0, 2, PATHS)

    assert steps[0] == (0x100, 101, 10, 0x100, 1)


def test_bfd_a_row_at_the_end_address_covers_nothing():
    steps = bfd_steps(rows((0x100, MAIN, 10), (0x108, MAIN, 11), (0x108, 0, 0, "e")), 0, 3, PATHS)

    assert [(a, f, line) for a, f, line, *_ in steps] == [(0x100, 101, 10), (0x108, NO_FILE, 0)]
    lines = LineTable.build(steps)
    assert lines.lookup(0x104) == (101, 10)
    assert lines.lookup(0x108) is None

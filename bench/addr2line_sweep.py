"""Does dre's addr2line mode answer like binutils at every halfword of .text?

    addr2line_sweep.py [ELF...]      (default: every tests/fixtures/*/firmware.elf)

For each ELF, asks `arm-none-eabi-addr2line -a -f -i` about every halfword-aligned address
of .text (one run per address for the C++ builds, whose answers otherwise depend on the
order they are asked in: tests/firmware/README.md, "addr2line for these variants") and
compares function, file and line of the whole inline chain with
`symbolicator.addr2line.addr2line`. The first and last byte of assembler functions with
an odd DW_AT_low_pc are left out, as in tests/symbolicator/test_addr2line_agreement.py.
Prints one line per ELF and the total; asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import source

HERE = Path(__file__).resolve().parent
source.use()  # before importing symbolicator
sys.path.insert(0, str(HERE.parent / "tests" / "firmware"))

import capture  # noqa: E402

import symbolicator  # noqa: E402
from symbolicator.addr2line import addr2line  # noqa: E402

sys.path.insert(0, str(HERE.parent))
from tests.symbolicator.test_addr2line_agreement import thumb_bit_boundaries  # noqa: E402


def sweep(elf: Path) -> tuple[int, list[int]]:
    start, end = capture.text_range(elf)
    skipped = thumb_bit_boundaries_of(elf)
    addresses = [a for a in range(start, end, 2) if a not in skipped]
    ask = (
        capture.run_addr2line_alone if elf.parent.name.startswith("cxx-") else capture.run_addr2line
    )
    answers = ask(elf, addresses)
    index = symbolicator.build_index(elf.read_bytes())
    differ = [
        address
        for address in addresses
        if addr2line(index, address)
        != [(f["function"], f["file"], f["line"] or 0) for f in answers[address]]
    ]
    return len(addresses), differ


def thumb_bit_boundaries_of(elf: Path) -> set[int]:
    return thumb_bit_boundaries(elf.parent.name) if elf.name == "firmware.elf" else set()


def main(argv: list[str]) -> int:
    fixtures = HERE.parent / "tests" / "fixtures"
    elves = [Path(a) for a in argv] or sorted(fixtures.glob("*/firmware.elf"))
    total = differing = 0
    for elf in elves:
        count, differ = sweep(elf)
        total, differing = total + count, differing + len(differ)
        first = ", ".join(hex(a) for a in differ[:3])
        print(f"{elf.parent.name:22} {count:6} addresses {len(differ):5} differ  {first}")
    print(f"all: {total} addresses, {differing} differ, {100 * (total - differing) / total:.3f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

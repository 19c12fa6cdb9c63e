"""python -m symbolicator ELF COREDUMP: every thread's backtrace, like GDB's bt, with hints.

With --full, every frame's locals too, like GDB's bt full.

Also: python -m symbolicator addr2line [-C] ELF ADDRESS... (like arm-none-eabi-addr2line -f -i).
With --elf-core OUT it also writes an ELF core for `gdb-multiarch ELF OUT`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import symbolicator
from symbolicator.addr2line import addr2line as addr2line_frames
from symbolicator.addr2line import format_addr2line
from symbolicator.export import core_threads, elf_core
from symbolicator.format import format_trace


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "addr2line":
        return addr2line(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m symbolicator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("elf", type=Path)
    parser.add_argument("coredump", type=Path)
    parser.add_argument("--no-hints", action="store_true", help="print exactly GDB's bt lines")
    parser.add_argument(
        "--full", action="store_true", help="also print every frame's locals, like GDB's bt full"
    )
    parser.add_argument(
        "--elf-core", type=Path, metavar="OUT", help="also write an ELF core file GDB can load"
    )
    args = parser.parse_args(argv)
    try:
        index = symbolicator.build_index(args.elf.read_bytes())
        coredump = symbolicator.parse_coredump(args.coredump.read_bytes())
        trace = symbolicator.symbolicate(coredump, index)
        if args.elf_core:
            write_elf_core(args.elf_core, coredump, index)
    except (OSError, symbolicator.SymbolicatorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for warning in trace.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(format_trace(trace, hints=not args.no_hints, full=args.full), end="")
    return 0


def write_elf_core(path: Path, coredump, index) -> None:
    """Write the core and say which GDB thread is which: GDB shows no thread names."""
    path.write_bytes(elf_core(coredump, index))
    for thread in core_threads(coredump, index):
        print(f"GDB thread {thread.lwp}: {thread.name}", file=sys.stderr)


def addr2line(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m symbolicator addr2line")
    parser.add_argument("elf", type=Path)
    parser.add_argument("addresses", nargs="+")
    parser.add_argument(
        "-C", "--demangle", action="store_true", help="demangle C++ and Rust names, like -C"
    )
    args = parser.parse_args(argv)
    index = symbolicator.build_index(args.elf.read_bytes())
    for text in args.addresses:
        frames = addr2line_frames(index, int(text, 16), demangle=args.demangle)
        for function, where in format_addr2line(frames):
            print(function)
            print(where)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where symbolicator spends its time: cProfile of index build (and of reading every
unit after it), and of warm symbolication.

    .venv/bin/python bench/profiling.py [build|symbolicate|all] [--target bigfw|fixture]
                                      [--top 25] [--runs 50]

Prints, per phase, the share of time per symbolicator module (own time) and the top
functions by own time and by cumulative time. cProfile slows pure-Python code down
(roughly 1.5-2x), evenly enough that the shares hold. Run bench/run.py (or
`make -C bench`) first so the big firmware exists.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections import defaultdict
from pathlib import Path

import source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
source.use()  # before importing symbolicator

from run import TARGETS  # noqa: E402

import symbolicator  # noqa: E402


def module_of(filename: str) -> str:
    path = Path(filename)
    if "symbolicator" in path.parts:
        parts = path.parts[path.parts.index("symbolicator") :]
        return "/".join(parts)
    return "(outside symbolicator)" if filename != "~" else "(builtins)"


def print_profile(title: str, profile: cProfile.Profile, top: int) -> None:
    stats = pstats.Stats(profile)
    total = stats.total_tt
    by_module: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_module[module_of(filename)] += own
    print(f"\n== {title}: {total:.3f} s under cProfile")
    print("-- own time per module")
    for module, own in sorted(by_module.items(), key=lambda item: -item[1])[:15]:
        print(f"{100 * own / total:6.1f}%  {own:7.3f} s  {module}")
    for key, label in (("tottime", "own"), ("cumulative", "cumulative")):
        print(f"-- top {top} functions by {label} time")
        rows = sorted(stats.stats.items(), key=lambda item: -item[1][2 if key == "tottime" else 3])
        for (filename, line, name), (_, calls, own, cumulative, _) in rows[:top]:
            where = f"{module_of(filename)}:{line}"
            print(
                f"{100 * own / total:6.1f}% own {100 * cumulative / total:6.1f}% cum "
                f"{calls:9d} calls  {name}  ({where})"
            )


def profile_build(target, top: int) -> None:
    elf = target.elf.read_bytes()
    profile = cProfile.Profile()
    index = profile.runcall(symbolicator.build_index, elf)
    print_profile(f"build_index({target.elf.name}) [{target.title}]", profile, top)
    if hasattr(index, "read_all_units"):  # format 10: units are read on first use
        profile = cProfile.Profile()
        profile.runcall(index.read_all_units)
        print_profile(f"read_all_units() [{target.title}]", profile, top)


def profile_symbolicate(target, top: int, runs: int) -> None:
    blob = symbolicator.build_index(target.elf.read_bytes()).to_bytes()
    index = symbolicator.SymbolIndex.from_bytes(blob)
    core = target.coredump.read_bytes()

    def one():
        return symbolicator.symbolicate(symbolicator.parse_coredump(core), index)

    first = cProfile.Profile()
    first.runcall(one)
    print_profile(f"first symbolicate after from_bytes [{target.title}]", first, top)
    warm = cProfile.Profile()
    for _ in range(runs):
        warm.runcall(one)
    print_profile(f"warm symbolicate x{runs} [{target.title}]", warm, top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", nargs="?", default="all", choices=["build", "symbolicate", "all"])
    parser.add_argument("--target", default="bigfw", choices=[t.key for t in TARGETS])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    target = next(t for t in TARGETS if t.key == args.target)
    if args.phase in ("build", "all"):
        profile_build(target, args.top)
    if args.phase in ("symbolicate", "all"):
        profile_symbolicate(target, args.top, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

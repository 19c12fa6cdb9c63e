"""Index build against `objdump --dwarf=decodedline` on every bench ELF (issue 8).

    .venv/bin/python bench/index_build.py [--runs N] [--bigfw-runs N] [--json FILE]

For the big firmware (bench/build/bigfw, `make -C bench`) and every ELF under
tests/fixtures: objdump's and the build's median wall-clock and CPU time, measured
interleaved in the same run (objdump's CPU time is its process's user + system time),
their ratios (target ≤ 5x), the time to read every unit after the build (what the
build did before units were read on first use), and the stored index's size against
the ELF's (target ≤ 1.5x). Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
source.use()  # before importing symbolicator

import measure  # noqa: E402

import symbolicator  # noqa: E402

BUILD_RATIO_LIMIT, INDEX_SIZE_LIMIT = 5.0, 1.5


def targets() -> list[tuple[str, Path]]:
    found = [("big firmware", HERE / "build" / "bigfw" / "firmware.elf")]
    for elf in sorted((ROOT / "tests" / "fixtures").glob("*/*.elf")):
        found.append((elf.parent.name, elf))
    return [(name, elf) for name, elf in found if elf.exists()]


def measure_elf(elf: Path, runs: int) -> dict:
    data = elf.read_bytes()
    objdump = ["arm-none-eabi-objdump", "--dwarf=decodedline", str(elf)]
    build, baseline = measure.Timings([]), measure.Timings([])
    for _ in range(runs):  # interleaved: a burst of load hits both alike
        for timings, one in (
            (baseline, measure.time_command(objdump, 1)),
            (build, measure.time_call(lambda: symbolicator.build_index(data), 1)),
        ):
            timings.seconds += one.seconds
            timings.cpu_seconds += one.cpu_seconds
    index = symbolicator.build_index(data)
    result = {
        "elf_bytes": len(data),
        "objdump": baseline,
        "build": build,
        "stored_bytes": len(index.to_bytes(elf_sections=False)),
    }
    if hasattr(index, "read_all_units"):
        result["read_all_units"] = measure.time_call(
            lambda: symbolicator.build_index(data).read_all_units(), max(1, runs // 3)
        )
    return result


def row(name: str, r: dict) -> str:
    cpu = r["build"].cpu_median / r["objdump"].cpu_median
    wall = r["build"].median / r["objdump"].median
    size = r["stored_bytes"] / r["elf_bytes"]
    everything = r.get("read_all_units")
    return (
        f"| {name} | {r['elf_bytes'] / 1000:,.0f} kB | {ms(r['objdump'].cpu_median)} | "
        f"{ms(r['build'].cpu_median)} | **{cpu:.1f}x** | {ms(r['objdump'].median)} | "
        f"{ms(r['build'].median)} | {wall:.1f}x | "
        f"{ms(everything.cpu_median) if everything else '-'} | {size:.2f}x |"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31, help="runs per fixture ELF")
    parser.add_argument("--bigfw-runs", type=int, default=7, help="runs for the big firmware")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)
    print(f"symbolicator: {source.describe()}", flush=True)
    print(
        "| ELF | size | objdump CPU | build CPU | build / objdump, CPU (≤ 5x) | objdump wall | "
        "build wall | build / objdump, wall | build + every unit read, CPU | stored index / ELF |"
    )
    print("|---" * 10 + "|")
    results, worst = {}, 0.0
    for name, elf in targets():
        runs = args.bigfw_runs if name == "big firmware" else args.runs
        r = results[name] = measure_elf(elf, runs)
        worst = max(worst, r["build"].cpu_median / r["objdump"].cpu_median)
        print(row(name, r), flush=True)
    print(f"\nworst CPU ratio: {worst:.1f}x (target ≤ {BUILD_RATIO_LIMIT:.0f}x)")
    if args.json:
        args.json.write_text(json.dumps({n: plain(r) for n, r in results.items()}, indent=1))
    return 0


def plain(result: dict) -> dict:
    return {
        key: {"median": value.median, "cpu_median": statistics.median(value.cpu_seconds)}
        if isinstance(value, measure.Timings)
        else value
        for key, value in result.items()
    }


if __name__ == "__main__":
    sys.exit(main())

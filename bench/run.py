"""dre symbolication benchmark: one command, one table.

    .venv/bin/python bench/run.py [--quick] [--rebuild] [--json FILE]

For the big generated firmware (bench/build/bigfw, built and crashed in QEMU by
`make -C bench` when missing; needs the toolchain of tests/firmware/README.md) and for
the test-firmware fixture tests/fixtures/an385-O2 (null_write), it measures:

1. index build: symbolicator.build_index (median of N) against
   `arm-none-eabi-objdump --dwarf=decodedline ELF > /dev/null` (median of N), and the ratio,
   in wall-clock and CPU time; also the build followed by reading every unit;
2. the stored index: size, SymbolIndex.from_bytes time (median);
3. one coredump: parse_coredump + symbolicate with a warm index (median, p95 of many),
   also the first one after loading the index, and without variables for reference;
4. peak memory: tracemalloc peak (Python allocations made by the call) and peak RSS of a
   fresh interpreter doing only that (rss_child.py), for build and for symbolicate;
5. `gdb-multiarch --batch` printing `thread apply all bt` for the same coredump through
   coredump_rsp.py (median), and its ratio to dre's warm median;
6. whether GDB's frames (on the coredump, and live at the fault) equal dre's.
Every ratio uses baselines measured in the same run. Benchmarks print figures; they are
not tests and assert nothing.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
source.use()  # before importing symbolicator

import agreement  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
from elftools.elf.elffile import ELFFile  # noqa: E402

import symbolicator  # noqa: E402

BIGFW = HERE / "build" / "bigfw"
FIXTURE = ROOT / "tests" / "fixtures" / "an385-O2"
WARMUP = 3


@dataclass(frozen=True)
class Target:
    key: str
    title: str
    elf: Path
    coredump: Path
    live: Path  # gdb.json: GDB's live view at the fault
    manifest: Path | None = None


TARGETS = [
    Target(
        "bigfw",
        "big firmware",
        BIGFW / "firmware.elf",
        BIGFW / "crash" / "coredump.bin",
        BIGFW / "crash" / "gdb.json",
        BIGFW / "manifest.json",
    ),
    Target(
        "fixture",
        "an385-O2 null_write",
        FIXTURE / "firmware.elf",
        FIXTURE / "null_write" / "coredump.bin",
        FIXTURE / "null_write" / "gdb.json",
    ),
]


@dataclass(frozen=True)
class Runs:
    build: int
    objdump: int
    load: int
    cold: int
    warm: int
    gdb: int


FULL = Runs(build=5, objdump=5, load=20, cold=3, warm=300, gdb=5)
QUICK = Runs(build=2, objdump=2, load=5, cold=2, warm=50, gdb=2)


# Inputs -----------------------------------------------------------------------------------


def ensure_bigfw(rebuild: bool) -> None:
    target = TARGETS[0]
    if rebuild or not (target.elf.exists() and target.coredump.exists() and target.live.exists()):
        print("building and crashing the big firmware (make -C bench) ...", flush=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["make", "-C", str(HERE), "-j", jobs], check=True, stdout=subprocess.DEVNULL)


def elf_facts(target: Target) -> dict:
    """Section sizes, compilation units and function counts of the ELF."""
    with target.elf.open("rb") as handle:
        elf = ELFFile(handle)
        sizes = {s.name: s["sh_size"] for s in elf.iter_sections()}
        units = sum(1 for _ in elf.get_dwarf_info().iter_CUs())
        symtab = elf.get_section_by_name(".symtab")
        functions = sum(1 for s in symtab.iter_symbols() if s["st_info"]["type"] == "STT_FUNC")
    facts = {
        "elf_bytes": target.elf.stat().st_size,
        "debug_info": sizes.get(".debug_info", 0),
        "debug_line": sizes.get(".debug_line", 0),
        "dwarf_bytes": sum(size for name, size in sizes.items() if name.startswith(".debug_")),
        "text": sizes.get(".text", 0),
        "units": units,
        "elf_functions": functions,
        "coredump_bytes": target.coredump.stat().st_size,
    }
    if target.manifest and target.manifest.exists():
        facts["source_functions"] = json.loads(target.manifest.read_text())["generated_functions"]
    return facts


# Measurements -----------------------------------------------------------------------------


def measure_index(target: Target, runs: Runs) -> tuple[dict, bytes]:
    elf_bytes = target.elf.read_bytes()
    objdump = ["arm-none-eabi-objdump", "--dwarf=decodedline", str(target.elf)]
    # Context, not a target: objdump decoding all the DWARF the index reads.
    everything = ["arm-none-eabi-objdump", "--dwarf=info,decodedline,frames", str(target.elf)]
    results = {
        "objdump": measure.time_command(objdump, runs.objdump),
        "objdump_all": measure.time_command(everything, runs.objdump),
        "build": measure.time_call(lambda: symbolicator.build_index(elf_bytes), runs.build),
        "build_tracemalloc": measure.tracemalloc_peak(lambda: symbolicator.build_index(elf_bytes)),
        "build_rss": measure.child_rss("build", target.elf),
    }
    if hasattr(symbolicator.SymbolIndex, "read_all_units"):
        # What the build did before units were read on first use (format 9 and older).
        results["read_all_units"] = measure.time_call(
            lambda: symbolicator.build_index(elf_bytes).read_all_units(), runs.build
        )
    blob = symbolicator.build_index(elf_bytes).to_bytes()
    results["index_bytes"] = len(blob)
    results["load"] = measure.time_call(
        lambda: symbolicator.SymbolIndex.from_bytes(blob), runs.load
    )
    # As dre stores it: without the sections it reads back from the ELF kept next to it.
    stored = symbolicator.build_index(elf_bytes).to_bytes(elf_sections=False)
    results["stored_index_bytes"] = len(stored)
    results["load_stored"] = measure.time_call(
        lambda: symbolicator.SymbolIndex.from_bytes(stored, elf_bytes), runs.load
    )
    return results, blob


def measure_symbolicate(target: Target, blob: bytes, runs: Runs) -> dict:
    core = target.coredump.read_bytes()
    load = symbolicator.SymbolIndex.from_bytes

    def one(index, **options):
        return symbolicator.symbolicate(symbolicator.parse_coredump(core), index, **options)

    results = {"cold": measure.time_call(lambda: one(load(blob)), runs.cold)}
    index = load(blob)
    for _ in range(WARMUP):
        one(index)
    # No gc.collect() between runs: a worker does not get one either.
    results["warm"] = measure.time_call(lambda: one(index), runs.warm, collect=False)
    if "variables" in inspect.signature(symbolicator.symbolicate).parameters:
        results["warm_no_variables"] = measure.time_call(
            lambda: one(index, variables=False), runs.warm, collect=False
        )
    results["symbolicate_tracemalloc"] = measure.tracemalloc_peak(lambda: one(index))
    index_file = HERE / "build" / f"{target.key}.dreidx"
    index_file.parent.mkdir(parents=True, exist_ok=True)
    index_file.write_bytes(blob)
    results["symbolicate_rss"] = measure.child_rss("symbolicate", index_file, target.coredump)
    trace = results["trace"] = one(index)
    results["threads"] = len(trace.threads)
    results["frames"] = sum(len(thread.frames) for thread in trace.threads)
    return results


def measure_gdb(target: Target, runs: Runs) -> dict:
    server = agreement.server_command(target.elf, target.coredump)
    gdb = [
        "gdb-multiarch",
        "--batch",
        "-nx",
        "-ex",
        f"target remote | {server}",
        "-ex",
        "thread apply all bt",
        str(target.elf),
    ]
    check = [
        sys.executable,
        str(HERE / "coredump_rsp.py"),
        "--check",
        str(target.elf),
        str(target.coredump),
    ]
    env = {**os.environ, "LANG": "C"}
    return {
        "gdb": measure.time_command(gdb, runs.gdb, env=env),
        "server_start": measure.time_command(check, runs.gdb),
        "gdb_command": " ".join(gdb[:4]) + f' "target remote | {server}" -ex '
        f'"thread apply all bt" {target.elf}',
    }


def measure_agreement(target: Target, trace) -> dict:
    return {
        "on_coredump": agreement.summary(
            agreement.compare(agreement.gdb_on_coredump(target.elf, target.coredump), trace)
        ),
        "live": agreement.summary(agreement.compare(agreement.live_threads(target.live), trace)),
    }


def measure_target(target: Target, runs: Runs) -> dict:
    print(f"measuring {target.title} ...", flush=True)
    results = {"facts": elf_facts(target)}
    index_results, blob = measure_index(target, runs)
    results.update(index_results)
    results.update(measure_symbolicate(target, blob, runs))
    results.update(measure_gdb(target, runs))
    results["agreement"] = measure_agreement(target, results.pop("trace"))
    return results


# Environment ------------------------------------------------------------------------------


def first_line(command: list[str]) -> str:
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return output.splitlines()[0] if output else "?"


def environment() -> dict:
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "?",
        )
    return {
        "measured": source.describe(),
        "python": platform.python_version(),
        "cpu": f"{cpu} ({os.cpu_count()} CPUs)",
        "gdb": first_line(["gdb-multiarch", "--version"]),
        "objdump": first_line(["arm-none-eabi-objdump", "--version"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the big firmware")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    ensure_bigfw(args.rebuild)
    runs = QUICK if args.quick else FULL
    results = {target.key: measure_target(target, runs) for target in TARGETS}
    env = environment()
    print()
    print(report.table(TARGETS, results, runs))
    print()
    print(report.environment(env, time.perf_counter() - started))
    if args.json:
        args.json.write_text(json.dumps(report.as_json(results, env, runs), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

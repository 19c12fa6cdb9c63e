"""Do GDB and dre agree on a crash? Frame by frame, every thread.

Three views of one crash can be compared:
1. GDB on the coredump, through coredump_rsp.py (`gdb_on_coredump`);
2. GDB live at the fault, as the capture harness recorded it (gdb.json; the crashing
   thread's frames start at the faulting function, as in tests/fixtures);
3. dre: symbolicator.symbolicate on the same coredump.
Rows are compared exactly as tests/symbolicator/test_gdb_agreement.py does (kind, pc,
function, file, line), with the same helpers.

    agreement.py ELF COREDUMP [--live gdb.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import source

HERE = Path(__file__).resolve().parent
source.use()  # before importing symbolicator

import symbolicator  # noqa: E402
from tests.symbolicator.gdb_reference import dre_rows, gdb_rows  # noqa: E402

GDB_TIMEOUT_SECONDS = 120


def server_command(elf: Path, coredump: Path) -> str:
    """The `target remote | ...` command line for coredump_rsp.py."""
    return f"{sys.executable} {HERE / 'coredump_rsp.py'} {elf} {coredump}"


def gdb_on_coredump(elf: Path, coredump: Path) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="dre-bench-") as work:
        output = Path(work) / "frames.json"
        command = [
            "gdb-multiarch", "--batch", "-nx",
            "-ex", f"target remote | {server_command(elf, coredump)}",
            "-x", str(HERE / "gdb_frames.py"),
            str(elf),
        ]  # fmt: skip
        env = {**os.environ, "DRE_BENCH_FRAMES": str(output), "LANG": "C"}
        subprocess.run(
            command, env=env, capture_output=True, check=True, timeout=GDB_TIMEOUT_SECONDS
        )
        return json.loads(output.read_text())["threads"]


def live_threads(gdb_json: Path) -> list[dict]:
    return json.loads(gdb_json.read_text())["threads"]


@dataclass
class ThreadComparison:
    name: str
    frames: int
    equal: bool
    detail: str = ""


def compare(expected: list[dict], trace: symbolicator.Trace) -> list[ThreadComparison]:
    """Each expected thread against dre's thread of the same name."""
    actual = {thread.name: thread for thread in trace.threads}
    results = []
    for thread in expected:
        want = [str(row) for row in gdb_rows(thread)]
        found = actual.get(thread["name"])
        got = [str(row) for row in dre_rows(found)] if found else []
        results.append(
            ThreadComparison(thread["name"], len(want), want == got, _first_difference(want, got))
        )
    return results


def _first_difference(want: list[str], got: list[str]) -> str:
    for n, (expected, actual) in enumerate(zip(want, got, strict=False)):
        if expected != actual:
            return f"frame {n}: GDB {expected!r}, dre {actual!r}"
    if len(want) != len(got):
        return f"GDB has {len(want)} frames, dre {len(got)}"
    return ""


def summary(results: list[ThreadComparison]) -> str:
    frames = sum(r.frames for r in results)
    if all(r.equal for r in results):
        return f"equal: {len(results)} threads, {frames} frames"
    wrong = [f"{r.name}: {r.detail}" for r in results if not r.equal]
    return "DIFFERENT: " + "; ".join(wrong)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf", type=Path)
    parser.add_argument("coredump", type=Path)
    parser.add_argument("--live", type=Path, help="gdb.json of the live capture")
    args = parser.parse_args(argv)
    index = symbolicator.build_index(args.elf.read_bytes())
    trace = symbolicator.symbolicate(symbolicator.parse_coredump(args.coredump.read_bytes()), index)
    views = {"GDB on the coredump vs dre": gdb_on_coredump(args.elf, args.coredump)}
    if args.live:
        views["GDB live at the fault vs dre"] = live_threads(args.live)
    ok = True
    for title, threads in views.items():
        results = compare(threads, trace)
        ok = ok and all(r.equal for r in results)
        print(f"{title}: {summary(results)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

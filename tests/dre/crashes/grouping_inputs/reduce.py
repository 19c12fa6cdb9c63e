"""Derive a grouping input from a firmware fixture: symbolicate its coredump and keep
what grouping reads (trace reason, kernel, fault kind/cause/context, the crashed
thread's frames with pc, kind, function, file and CFA, and its stop reason).

    .venv/bin/python -m tests.dre.crashes.grouping_inputs.reduce freertos-an385-O0 isr_fault
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import symbolicator
from tests.firmware_fixtures import coredump_path, elf_path

HERE = Path(__file__).parent
FAULT_KEYS = ("kind", "exception", "cause")
FRAME_KEYS = ("pc", "kind", "function", "cfa")


def symbolicated(build: str, scenario: str) -> dict:
    index = symbolicator.build_index(elf_path(build).read_bytes())
    parsed = symbolicator.parse_coredump(coredump_path(build, scenario).read_bytes())
    return symbolicator.symbolicate(parsed, index).to_dict()


def reduce(trace: dict) -> dict:
    fault = trace.get("fault") or {}
    context = fault.get("context") or {}
    crashed = next(t for t in trace["threads"] if t["crashed"])
    return {
        "trace_reason": trace.get("trace_reason"),
        "kernel": trace.get("kernel"),
        "fault": {
            **{k: fault.get(k) for k in FAULT_KEYS},
            "context": {k: context.get(k) for k in ("mode", "exception", "handler")},
        },
        "threads": [
            {
                "name": crashed["name"],
                "crashed": True,
                "stop_reason": crashed.get("stop_reason", ""),
                "frames": [_frame(f) for f in crashed["frames"]],
            }
        ],
    }


def _frame(frame: dict) -> dict:
    reduced = {k: frame.get(k) for k in FRAME_KEYS}
    if frame.get("location"):
        reduced["location"] = {"file": frame["location"]["file"]}
    return reduced


def main(build: str, scenario: str) -> None:
    path = HERE / f"{build}-{scenario}.json"
    path.write_text(json.dumps(reduce(symbolicated(build, scenario)), indent=1) + "\n")
    print(path)


if __name__ == "__main__":
    main(*sys.argv[1:3])

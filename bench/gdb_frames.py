"""GDB script: write every thread's frames as JSON, for comparison with dre.

Run inside gdb-multiarch after `target remote | coredump_rsp.py ELF CORE`:
    gdb-multiarch --batch -nx -ex "target remote | ..." -x bench/gdb_frames.py ELF
The output path comes from the environment variable DRE_BENCH_FRAMES.
Per frame: type, pc, function and file:line as GDB shows them (find_sal, which uses
pc - 1 for callers), the same fields tests/symbolicator/gdb_reference.py compares.
"""

from __future__ import annotations

import json
import os

import gdb

FRAME_TYPES = {
    gdb.NORMAL_FRAME: "NORMAL",
    gdb.INLINE_FRAME: "INLINE",
    gdb.TAILCALL_FRAME: "TAILCALL",
    gdb.SIGTRAMP_FRAME: "SIGTRAMP",
}


def frame_record(frame: gdb.Frame) -> dict:
    sal = frame.find_sal()
    return {
        "type": FRAME_TYPES.get(frame.type(), str(frame.type())),
        "pc": f"0x{frame.pc():08x}",
        "function": frame.name(),
        "file": sal.symtab.filename if sal.symtab else None,
        "line": sal.line or None,
    }


def thread_frames() -> tuple[list[dict], str | None]:
    frames, frame, error = [], gdb.newest_frame(), None
    while frame is not None:
        frames.append(frame_record(frame))
        try:
            frame = frame.older()
        except gdb.error as exc:
            error = str(exc)
            break
    return frames, error


def main() -> None:
    threads = []
    for thread in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
        thread.switch()
        frames, error = thread_frames()
        threads.append({"name": thread.name, "frames": frames, "unwind_error": error})
    with open(os.environ["DRE_BENCH_FRAMES"], "w", encoding="utf-8") as handle:
        json.dump({"threads": threads}, handle, indent=1)


main()

"""One task in a fresh interpreter, to measure its peak resident memory.

    rss_child.py build ELF                    build_index on the ELF
    rss_child.py symbolicate INDEX COREDUMP   load a stored index, symbolicate once

Prints JSON: peak RSS after the imports and at the end, in bytes. The peak is Linux's
VmHWM of /proc/self/status, not ru_maxrss: ru_maxrss survives execve, so a child would
report its parent's peak (getrusage(2), "ru_maxrss").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import source

source.use()  # before importing symbolicator

import symbolicator  # noqa: E402


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise OSError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> int:
    task, *paths = argv
    after_imports = peak_rss()
    if task == "build":
        symbolicator.build_index(Path(paths[0]).read_bytes())
    elif task == "symbolicate":
        index = symbolicator.SymbolIndex.from_bytes(Path(paths[0]).read_bytes())
        symbolicator.symbolicate(symbolicator.parse_coredump(Path(paths[1]).read_bytes()), index)
    else:
        print(f"unknown task {task!r}", file=sys.stderr)
        return 2
    print(json.dumps({"after_imports": after_imports, "peak": peak_rss()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Which checkout's symbolicator the benchmark measures.

By default the one this bench/ belongs to. Set DRE_BENCH_SOURCE to another checkout (or a
`git archive` export) to measure that one instead, e.g. before and after a change:

    git archive HEAD symbolicator tests | tar -x -C /tmp/dre-head
    DRE_BENCH_SOURCE=/tmp/dre-head .venv/bin/python bench/run.py

Child processes inherit the variable, so they measure the same code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(os.environ.get("DRE_BENCH_SOURCE") or ROOT).resolve()


def use() -> None:
    """Put the measured checkout first on sys.path (call before importing symbolicator)."""
    if sys.path[:1] != [str(SOURCE)]:
        sys.path.insert(0, str(SOURCE))


def describe() -> str:
    """The measured code: commit, and how many of its symbolicator files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(SOURCE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(SOURCE), "status", "--porcelain", "--", "symbolicator"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return f"{SOURCE} (not a git checkout)"
    state = f", {len(changed)} uncommitted changes in symbolicator/" if changed else ""
    return f"{SOURCE} at {commit}{state}"

"""Running the real memfault-cli (installed from requirements-dev.txt) against a live
dre server, as CI pipelines and developers do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MEMFAULT = str(Path(sys.executable).with_name("memfault"))


def memfault(live_server, *args, **credentials) -> subprocess.CompletedProcess:
    """`memfault --org-token … --org … <args>` with MEMFAULT_URL at the live server;
    keyword arguments become options (`project_key=` -> `--project-key`)."""
    env = {**os.environ, "MEMFAULT_URL": live_server.url}
    options = []
    for name, value in credentials.items():
        options += [f"--{name.replace('_', '-')}", value]
    return subprocess.run(
        [MEMFAULT, *options, *args], env=env, capture_output=True, text=True, timeout=60
    )

"""The README's administration commands, run as an admin would type them: each line of
its code block, in order, by a shell, against a fresh database of their own."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PASSWORD = "a long password for alice 7c1e"
# The one placeholder in the block: keys list prints the real prefix to use.
EXAMPLE_PREFIX = "1a2b3c4d"


def administration_lines() -> list[str]:
    section = README.read_text().split("## Administration", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture
def admin_env(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'admin.sqlite3'}",
        "DEBUG": "true",
    }
    subprocess.run(
        [".venv/bin/python", "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return env


def run_line(line: str, env: dict) -> tuple[int, str]:
    if "createsuperuser" in line:
        return run_in_terminal(line, env, [("Password:", PASSWORD), ("(again):", PASSWORD)])
    done = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def run_in_terminal(line: str, env: dict, replies: list[tuple[str, str]]) -> tuple[int, str]:
    """Run `line` on a pseudo-terminal, typing each reply once its prompt has appeared
    (createsuperuser asks only when it runs in a terminal)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        ["bash", "-c", line], cwd=ROOT, env=env,
        stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    output, answered = "", 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([controller], [], [], 0.5)[0]:
            continue
        try:
            data = os.read(controller, 4096)
        except OSError:  # the terminal closed: the command has exited
            break
        output += data.decode(errors="replace")
        if answered < len(replies) and output.rstrip().endswith(replies[answered][0]):
            os.write(controller, replies[answered][1].encode() + b"\n")
            answered += 1
    os.close(controller)
    return process.wait(timeout=10), output


def test_the_readme_shows_the_administration_commands():
    commands = [line.split("manage.py ")[1].split()[0] for line in administration_lines()]

    assert commands == ["orgs", "projects", "keys", "tokens", "createsuperuser", "members",
                        "keys", "keys"]  # fmt: skip


def test_every_administration_command_works_as_written(admin_env):
    outputs = []
    for line in administration_lines():
        if EXAMPLE_PREFIX in line:
            line = line.replace(EXAMPLE_PREFIX, outputs[2].strip()[:8])
        returncode, output = run_line(line, admin_env)
        assert returncode == 0, f"{line}\n{output}"
        outputs.append(output)

    project_key = outputs[2].split()[0]
    assert re.fullmatch(r"[0-9a-f]{32}", project_key)
    assert outputs[3].startswith("oat_")
    assert "Superuser created successfully." in outputs[4]
    assert "alice is admin of acme" in outputs[5]
    assert f"{project_key[:8]}…  active" in outputs[6]
    assert f"revoked {project_key[:8]}…" in outputs[7]

"""Real processes for the fault tests: a redis-server of the test's own on a free port,
and Celery workers that can be killed with SIGKILL, process group and all."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import QUEUES


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway broker. No persistence: a restart loses every queued message, the
    worst a broker restart can do."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
                pytest.fail("redis-server is missing: CI must `apt-get install redis-server`")
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class Worker:
    """`celery worker` in its own session, so SIGKILL reaches its pool processes too."""

    def __init__(self, env: dict, log: Path, *, beat: bool = False, concurrency: int = 2):
        command = [sys.executable, "-m", "celery", "-A", "dre", "worker"]
        command += ["--concurrency", str(concurrency), "--queues", QUEUES, "--loglevel", "INFO"]
        command += ["--hostname", f"fault-{os.getpid()}-{time.monotonic_ns()}@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            command += ["--beat", "--schedule", str(log.with_suffix(".beat"))]
        self.command, self.env, self.log = command, env, log
        self.restarts = 0
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def supervise(self) -> None:
        """Restart the worker if it exited, as systemd's Restart=always would. Celery
        5.7's worker exits when the broker connection drops while it holds messages."""
        if self.process.poll() is not None:
            self.restarts += 1
            self.process = self._spawn()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.output()}")
            if " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready within {timeout}s: {self.output()}")

    def kill(self) -> None:
        """kill -9 of the worker and its pool processes: nothing runs any cleanup."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill_pool_processes(self) -> list[int]:
        """SIGKILL the pool processes only, as the OOM killer picks the one that grew;
        the worker's main process stays and forks new ones."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        return [int(pid) for pid in children]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Beat(Worker):
    """`celery beat` on its own, as a deployment that runs it apart from the workers."""

    def __init__(self, env: dict, log: Path):
        self.command = [sys.executable, "-m", "celery", "-A", "dre", "beat", "--loglevel", "INFO"]
        self.command += ["--schedule", str(log.with_suffix(".beat"))]
        self.env, self.log, self.restarts = env, log, 0
        self.process = self._spawn()

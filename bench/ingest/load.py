"""A small, bounded load generator: client threads on keep-alive HTTP/1.1 connections
to 127.0.0.1 only, a fixed number of requests and a time limit per phase."""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
COREDUMP = (FIXTURES / "an385-O0" / "null_write" / "coredump.bin").read_bytes()
CHUNK = (FIXTURES / "memfault-chunks" / "chunk_v2_single_chunk_msg.bin").read_bytes()
DEVICES = 200
WARM_UP = DEVICES  # every device of the chunk phase exists before timing


@dataclass
class Phase:
    """What one endpoint got: latencies in seconds, wall time, status counts."""

    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    cpu: Counter = field(default_factory=Counter)  # CPU seconds per process kind

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.statuses += other.statuses
        self.cpu += other.cpu

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


# What a device asks releases/latest (bench/ingest/run.py deploys 2.0.0 for it).
LATEST = "hardware_version=evt&software_type=main&current_version=1.0.0&device_serial="


def endpoints(project_key: str) -> dict[str, callable]:
    """Each endpoint as i -> (path, body, headers) of its i-th request; no body is a GET.
    POST endpoints are compared with the POST no-op, GET ones with the GET no-op."""
    key = {"Memfault-Project-Key": project_key, "Content-Type": "application/octet-stream"}
    get = {"Memfault-Project-Key": project_key}
    return {
        "no-op view (baseline)": lambda i: ("/bench/noop", COREDUMP, key),
        "POST no-op, device handler": lambda i: ("/bench/device-noop", COREDUMP, key),
        "POST /api/v0/upload/coredump": lambda i: ("/api/v0/upload/coredump", COREDUMP, key),
        "POST /api/v0/chunks/<serial>": lambda i: (
            f"/api/v0/chunks/BENCH{i % DEVICES:04d}",
            CHUNK,
            key,
        ),
        "GET no-op view (baseline)": lambda i: ("/bench/noop", None, get),
        "GET /api/v0/releases/latest": lambda i: (
            f"/api/v0/releases/latest?{LATEST}BENCH{i % DEVICES:04d}",
            None,
            get,
        ),
        "GET /api/v0/releases/latest/url": lambda i: (
            f"/api/v0/releases/latest/url?{LATEST}BENCH{i % DEVICES:04d}",
            None,
            get,
        ),
    }


def wait_until_serving(port: int, server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


def measure_endpoints(port: int, project_key: str, args, meter=None) -> list[Phase]:
    """Warm every endpoint up, then alternate them in rounds so that a change in the
    machine's load hits all of them alike. `meter()` -> CPU seconds used so far per
    process kind (cpu.py), read around each phase."""
    requests = endpoints(project_key)
    for make in requests.values():
        run_phase(port, "warm-up", make, WARM_UP, args.clients, args.time_limit)
    totals = {name: Phase(name) for name in requests}
    per_round = max(1, args.requests // args.rounds)
    for _ in range(args.rounds):
        for name, make in requests.items():
            before = Counter(meter() if meter else {})
            phase = run_phase(port, name, make, per_round, args.clients, args.time_limit)
            if meter:
                phase.cpu = Counter(meter()) - before
            totals[name].add(phase)
    return list(totals.values())


def run_phase(port: int, name: str, make, count: int, clients: int, time_limit: float) -> Phase:
    phase = Phase(name)
    numbers = itertools.count()
    deadline = time.monotonic() + time_limit
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (i := next(numbers)) < count and time.monotonic() < deadline:
            status, seconds = _one_request(connection, make(i))
            with lock:
                phase.latencies.append(seconds)
                phase.statuses[status] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    return phase


def _one_request(connection, request) -> tuple[int | str, float]:
    path, body, headers = request
    started = time.perf_counter()
    try:
        method = "GET" if body is None else "POST"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # reconnects on the next request
        status = type(exc).__name__
    return status, time.perf_counter() - started


def print_table(phases: list[Phase]) -> None:
    baseline = phases[0].per_second
    baselines = {
        phase.name.split()[0]: phase.per_second for phase in phases if "no-op" in phase.name
    }
    print(f"\n{'endpoint':32} {'requests':>8} {'req/s':>8} {'median ms':>10} {'p95 ms':>8} "
          f"{'vs no-op':>9}  statuses")  # fmt: skip
    for phase in phases:
        ms = sorted(x * 1000 for x in phase.latencies)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] if ms else float("nan")
        base = baselines["GET"] if phase.name.startswith("GET") else baseline
        share = phase.per_second / base if base else float("nan")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(phase.statuses.items(), key=str))
        print(f"{phase.name:32} {len(ms):8d} {phase.per_second:8.1f} "
              f"{statistics.median(ms):10.1f} {p95:8.1f} {share:9.0%}  {statuses}")  # fmt: skip
    print_cpu(phases)


def print_cpu(phases: list[Phase]) -> None:
    """CPU milliseconds per request of each kind of process: unlike the rates, these
    hardly move with the machine's load (cpu.py says what each column counts)."""
    kinds = sorted({kind for phase in phases for kind in phase.cpu})
    if not kinds:
        return
    print(f"\nCPU ms per request{'':14}" + "".join(f"{k:>10}" for k in kinds) + f"{'total':>10}")
    for phase in phases:
        n = len(phase.latencies) or 1
        cells = [1000 * phase.cpu[k] / n for k in kinds]
        print(f"{phase.name:32}" + "".join(f"{c:10.2f}" for c in cells) + f"{sum(cells):10.2f}")

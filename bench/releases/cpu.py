"""CPU time per request of `releases/latest[/url]` and of a no-op GET, in every process.

    .venv/bin/python bench/releases/cpu.py [--requests 3000] [--rounds 3] [--clients 64]
                                           [--workers 2] [--database dre_bench_latest_cpu]

The rate bench (bench/ingest/run.py) divides requests by wall time, so on a shared
machine it measures the others' load as much as dre. On a machine whose CPUs are the
bottleneck, the rate is the inverse of the CPU a request costs across every process
that serves it, and that cost does not depend on the load. This bench sets up and
serves exactly as bench/ingest/run.py does (its functions: scratch database, 2.0.0
deployed to 200 devices on 1.0.0, gunicorn with dre/gunicorn_conf.py, the GET no-op
of bench_urls.py), then for each endpoint sends --requests requests from --clients
keep-alive threads in --rounds rounds (endpoints alternated) and reads, around each
round, the CPU time (user + system, from /proc) of:
- the gunicorn workers;
- the PostgreSQL backends connected to the scratch database (pg_stat_activity);
- redis-server (its INFO cpu: shared with whatever else uses that server, so read it
  with care on a busy machine);
- this process, the client.
It prints milliseconds per request for each and in all, the context switches of the
gunicorn workers' threads per request (how often they slept and were woken), and the
no-op's total as a share of each endpoint's: the rate ratio a CPU-bound quiet machine
would show (issue 10 asks for at least 60 %). Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
INGEST = HERE.parent / "ingest"
sys.path[:0] = [str(INGEST), str(HERE.parents[1])]

import load  # noqa: E402  (bench/ingest/load.py)
import run as ingest  # noqa: E402  (bench/ingest/run.py)

TICKS = os.sysconf("SC_CLK_TCK")
ENDPOINTS = (
    "GET no-op view (baseline)",
    "GET /api/v0/releases/latest",
    "GET /api/v0/releases/latest/url",
)
PROCESSES = ("gunicorn", "postgres", "redis", "client")


def main() -> None:
    args = _arguments()
    server = os.environ.get("DATABASE_URL") or ingest.DEFAULT_SERVER
    env = ingest._environment(args, urlsplit(server)._replace(path=f"/{args.database}").geturl())
    env["GUNICORN_MAX_REQUESTS"] = "0"  # a recycled worker would take its CPU time with it
    # 200 devices asking hundreds of times a minute: measure answers, not refusals.
    env["DEVICE_RATE_LIMIT"] = "100000000/m"
    ingest._recreate(server, args.database)
    try:
        key = ingest._setup_django(env)
        print(f"{os.cpu_count()} CPUs, load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start; gunicorn "
              f"workers {args.workers}, client threads {args.clients}")  # fmt: skip
        _measure(env, key, args)
    finally:
        ingest._clean_up(server, args.database, env)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint")
    parser.add_argument("--clients", type=int, default=64, help="client threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--database", default="dre_bench_latest_cpu")
    return parser.parse_args()


def _measure(env: dict[str, str], key: str, args) -> None:
    port = int(env["PORT"])
    server = ingest._start_gunicorn(env)
    try:
        load.wait_until_serving(port, server)
        requests = load.endpoints(key)
        for name in ENDPOINTS:  # every worker thread connected, every cache warm
            load.run_phase(port, "warm-up", requests[name], load.WARM_UP * 2, args.clients, 300)
        zero = dict.fromkeys((*PROCESSES, "switches"), 0.0)
        rows = {name: zero | {"count": 0, "seconds": 0.0, "statuses": {}} for name in ENDPOINTS}
        for _ in range(args.rounds):  # alternated, so that a change in load hits all alike
            for name in ENDPOINTS:
                _phase(rows[name], port, server.pid, requests[name], args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _print(rows)


def _phase(row: dict, port: int, master: int, make, args) -> None:
    before = _cpu(master, args.database)
    started = time.perf_counter()
    phase = load.run_phase(port, "timed", make, args.requests // args.rounds, args.clients, 300)
    row["seconds"] += time.perf_counter() - started
    after = _cpu(master, args.database)
    for name in (*PROCESSES, "switches"):
        row[name] += after[name] - before[name]
    row["count"] += len(phase.latencies)
    for status, count in phase.statuses.items():
        row["statuses"][status] = row["statuses"].get(status, 0) + count


def _cpu(master: int, database: str) -> dict[str, float]:
    workers = _children(master)
    return {
        "gunicorn": sum(_process_seconds(pid) for pid in workers),
        "switches": sum(_switches(pid) for pid in workers),
        "postgres": sum(_process_seconds(pid) for pid in _backends(database)),
        "redis": _redis_seconds(),
        "client": time.process_time(),
    }


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (proc(5))


def _switches(pid: int) -> int:
    """Context switches of all the process's threads: how often they slept and woke."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if "ctxt_switches:" in line:  # voluntary and nonvoluntary (proc(5))
                total += int(line.split()[1])
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(child) for child in children]
    return found


def _backends(database: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


def _redis_seconds() -> float:
    import redis

    info = redis.Redis.from_url(os.environ["CACHE_URL"]).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def _print(rows: dict[str, dict]) -> None:
    print(f"\nCPU milliseconds per request\n{'endpoint':32} "
          + " ".join(f"{name:>9}" for name in PROCESSES)
          + f" {'all':>7} {'vs no-op':>9} {'switches':>9} {'req/s':>8}  statuses")  # fmt: skip
    per_request = {
        name: {process: row[process] / row["count"] * 1000 for process in PROCESSES}
        for name, row in rows.items()
    }
    baseline = sum(per_request[ENDPOINTS[0]].values())
    for name, row in rows.items():
        total = sum(per_request[name].values())
        figures = " ".join(f"{per_request[name][process]:9.3f}" for process in PROCESSES)
        share, rate = baseline / total, row["count"] / row["seconds"]
        switches = row["switches"] / row["count"]
        print(f"{name:32} {figures} {total:7.3f} {share:9.0%} {switches:9.1f} {rate:8.0f}  "
              f"{row['statuses']}")  # fmt: skip


if __name__ == "__main__":
    main()

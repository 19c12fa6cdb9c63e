"""CPU per request of the device endpoints with many threads in one process, no server.

    .venv/bin/python bench/ingest/threads.py [--threads 24] [--requests 3000]
                                             [--database dre_bench_threads]

What run.py's ingest part measures, without gunicorn's own work: --threads threads
(gunicorn's default per worker) send the same requests as run.py through Django's
test client, so that the requests share group commits and rate-limit counts as under
gunicorn, and the process's user and system CPU per request is printed for the no-op
view, raw uploads and heartbeat chunks, in rounds. Steadier than run.py's figures on a
loaded machine (one process, no sockets), hence the figure to compare two versions of
the code by, back to back; run.py stays the one the target is stated in.

A scratch database (dropped at the end) on the server of DATABASE_URL; CELERY_BROKER_URL
and CACHE_URL as set, emptied of dre's queues at the end as run.py does.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import load  # noqa: E402
import run  # noqa: E402

ENDPOINTS = {
    "no-op view (baseline)": "no-op",
    "POST /api/v0/upload/coredump": "upload/coredump",
    "POST /api/v0/chunks/<serial>": "chunks/<serial>",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=24)
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="dre_bench_threads")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL") or run.DEFAULT_SERVER
    env = _environment(urlsplit(server)._replace(path=f"/{args.database}").geturl())
    run._recreate(server, args.database)
    try:
        key = run._setup_django(env)
        _measure(key, args)
    finally:
        run._clean_up(server, args.database, env)


def _environment(database_url: str) -> dict[str, str]:
    """run.py's settings, for Django's test client instead of gunicorn."""
    env = run._environment(argparse.Namespace(workers=1), database_url)
    return {**env, "ALLOWED_HOSTS": "testserver"}


def _measure(key: str, args) -> None:
    requests = {name: make for name, make in load.endpoints(key).items() if name in ENDPOINTS}
    for make in requests.values():
        _send(make, load.WARM_UP * 2, args.threads)
    cpu = dict.fromkeys(requests, (0.0, 0.0))
    per_round = max(1, args.requests // args.rounds)
    for _ in range(args.rounds):
        for name, make in requests.items():
            before = os.times()
            _send(make, per_round, args.threads)
            after = os.times()
            user, system = cpu[name]
            cpu[name] = (user + after.user - before.user, system + after.system - before.system)
    count = per_round * args.rounds
    print(f"\n{args.threads} threads, {count} requests per endpoint; CPU ms per request")
    print(f"{'endpoint':20} {'user':>8} {'system':>8} {'total':>8}")
    for name, (user, system) in cpu.items():
        ms = [1000 * user / count, 1000 * system / count]
        print(f"{ENDPOINTS[name]:20} {ms[0]:8.3f} {ms[1]:8.3f} {sum(ms):8.3f}")


def _send(make, count: int, threads: int) -> None:
    from django.db import connection
    from django.test import Client

    numbers = itertools.count()

    def client() -> None:
        browser = Client()
        while (i := next(numbers)) < count:
            path, body, headers = make(i)
            key = {"Memfault-Project-Key": headers["Memfault-Project-Key"]}
            response = browser.post(path, body, "application/octet-stream", headers=key)
            if response.status_code != 202:
                raise SystemExit(f"{path}: {response.status_code} {response.content[:200]}")
        connection.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()

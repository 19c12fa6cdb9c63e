"""CPU time used so far by each kind of process that serves the bench's requests,
read from /proc (Linux): the figure per request that the machine's load hardly
moves, unlike requests per second.

- gunicorn: the server and its workers (every descendant of the server's pid);
- postgres: the backends connected to the bench's database (pg_stat_activity);
- wal: PostgreSQL's WAL writer, shared with every other database on the server;
- redis: the Redis server, shared with every other user of it;
- client: this process (the client threads; nothing else runs in it meanwhile).

The shared ones (wal, redis) also count what others did meanwhile: read them on a
quiet machine, or as an upper bound.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

TICK = os.sysconf("SC_CLK_TCK")


def meter(server_pid: int, database: str):
    """A function returning {kind: CPU seconds so far} for the processes above."""
    import psycopg

    # On the server's maintenance database, so that it never holds the bench's open.
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres", scheme="postgresql")
    watcher = psycopg.connect(url.geturl(), autocommit=True)
    own_pid = watcher.execute("SELECT pg_backend_pid()").fetchone()[0]
    redis = _pids_named("redis-server")
    wal = _pids_named("postgres", "walwriter")
    gone: dict[int, float] = {}  # CPU of backends that have exited, kept
    last: dict[int, float] = {}

    def read() -> dict[str, float]:
        backends = [
            pid
            for (pid,) in watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                (database, own_pid),
            )
        ]
        for pid in list(last):
            if pid not in backends:
                gone[pid] = last.pop(pid)
        for pid in backends:
            last[pid] = _cpu(pid)
        times = os.times()
        return {
            "gunicorn": sum(_cpu(pid) for pid in [*_descendants(server_pid), server_pid]),
            "postgres": sum(last.values()) + sum(gone.values()),
            "wal": sum(_cpu(pid) for pid in wal),
            "redis": sum(_cpu(pid) for pid in redis),
            "client": times.user + times.system,
        }

    return read


def _cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return children + [d for c in children for d in _descendants(c)]


def _pids_named(name: str, argument: str = "") -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != name:
                continue
            if argument and argument not in (entry / "cmdline").read_text():
                continue
        except (FileNotFoundError, ProcessLookupError):
            continue
        pids.append(int(entry.name))
    return pids

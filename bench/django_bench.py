"""What the benches that run Django share: a scratch PostgreSQL database migrated for one
run and dropped after it, the statements one request runs, the median and 95th
percentile of timed samples, and the figures of a list of pages.

The database is made on the server of DATABASE_URL (postgres://postgres@127.0.0.1:5432/
when that is unset). Tasks run in-process after each commit (no broker) and blobs go to
a temporary folder. Import it as `bench.django_bench`, with the checkout on sys.path.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(name: str, *, keep: bool = False, reuse: bool = False):
    """Django set up on a new, migrated database `name`, dropped afterwards unless `keep`.
    With `reuse`, a database of that name that exists is used as it is (a large data set
    loaded once)."""
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    if not (reuse and exists(server, name)):
        recreate(server, name)
    try:
        setup_django(urlsplit(server)._replace(path=f"/{name}").geturl())
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            drop(server, name)


def recreate(server: str, name: str) -> None:
    with _maintenance(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop(server: str, name: str) -> None:
    with _maintenance(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def exists(server: str, name: str) -> bool:
    with _maintenance(server) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def setup_django(url: str) -> None:
    """Point dre at the database `url`, set Django up and migrate."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)  # tasks run in-process after commit
    os.environ["BLOB_ROOT"] = tempfile.mkdtemp(prefix="dre-bench-blobs-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def count_queries(client, url: str) -> int:
    """The SQL statements one GET of `url` runs."""
    from django.db import connection

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    return len(executed)


def percentile_95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def page_figures(client, pages: list[tuple[str, str]], requests: int) -> list[tuple]:
    """(name, median ms, p95 ms, queries) of GET each (name, url) of `pages` through the
    test client, timed over `requests` requests after five of warm-up (caches, the symbol
    index, connections)."""
    rows = []
    for name, url in pages:
        for _ in range(5):
            assert client.get(url).status_code == 200, url
        queries = count_queries(client, url)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        rows.append((name, statistics.median(times), percentile_95(times), queries))
    return rows


def summary(seconds: list[float]) -> str:
    """Median and p95 of samples in seconds, in milliseconds."""
    median, p95 = statistics.median(seconds), percentile_95(seconds)
    return f"median {median * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def _maintenance(server: str):
    import psycopg

    url = urlsplit(server)._replace(path="/postgres", scheme="postgresql").geturl()
    return psycopg.connect(url, autocommit=True)

"""Ingest under the production server, and worker throughput: figures and ratios.

    .venv/bin/python bench/ingest/run.py [--requests 1500] [--clients 64] [--workers N]
                                         [--only ingest|worker] [--coredumps 200] [--profile]
                                         [--batch 50] [--database dre_bench_ingest]

Ingest (what devices wait for):
1. creates a scratch database (dre_bench_ingest on the server of DATABASE_URL, or of
   postgres://postgres@127.0.0.1:5432/), migrates it and makes a project key;
2. starts gunicorn with dre/gunicorn_conf.py on a free port of 127.0.0.1, with dre's
   settings plus one no-op view (bench_settings.py, bench_urls.py: never in dre.urls);
   CELERY_BROKER_URL and CACHE_URL as set (default Redis 0 and 1 on 127.0.0.1), so each
   upload publishes its task and counts its rate limits as in production; the project
   rate limit is raised so that it never answers 429 here;
3. in rounds, sends the same number of requests to the no-op view, to the same no-op
   served as a device path (bench_device_urls.py: through dre.wsgi's device handler,
   without the site's middleware), to POST /api/v0/upload/coredump (a fixture
   coredump) and to POST /api/v0/chunks/<serial> (Memfault's single-chunk heartbeat,
   200 device serials in turn), then to the no-op view by GET and to GET
   /api/v0/releases/latest[/url] (200 devices on 1.0.0 offered a deployed 2.0.0) from
   --clients threads on keep-alive connections, bounded by --requests and a time limit;
4. prints requests per second, median and p95 latency, and each endpoint's rate as a
   share of the no-op's (POSTs of the POST no-op, GETs of the GET no-op), all from
   this run; then the CPU milliseconds per request of gunicorn, of the database's
   PostgreSQL backends, of the WAL writer and Redis (shared: others count too) and of
   the client threads (cpu.py), which the machine's load hardly moves.

Worker (what a Celery worker process does per crash): uploads the ELFs, indexes them,
stores --coredumps coredumps without queueing them, then times coredump_symbolicate
one after another in this process, and coredumps_symbolicate on --batch at a time
(worker.py), on the test fixtures and on bench/build/bigfw when it exists
(make -C bench); with the SQL statements each coredump costs.
--profile prints where that time goes (cProfile).

Point CELERY_BROKER_URL at a Redis database no worker uses: the run empties dre's queues
there at the end (its tasks name coredumps of the scratch database, dropped too).
Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import cpu  # noqa: E402
import load  # noqa: E402
import worker  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
QUEUES = ("default", "symbols", "coredumps", "grouping", "maintenance")


def main() -> None:
    args = _arguments()
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    env = _environment(args, urlsplit(server)._replace(path=f"/{args.database}").geturl())
    _recreate(server, args.database)
    try:
        key = _setup_django(env)
        _print_machine(args)
        if args.only in (None, "ingest"):
            _ingest(env, key, args)
        if args.only in (None, "worker"):
            worker.run(args.coredumps, args.profile, args.batch)
    finally:
        _clean_up(server, args.database, env)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=64, help="client threads")
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: dre.gunicorn_conf's)"
    )
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per phase")
    parser.add_argument("--coredumps", type=int, default=200, help="per worker data set")
    parser.add_argument("--only", choices=["ingest", "worker"])
    parser.add_argument("--profile", action="store_true", help="cProfile the worker part")
    parser.add_argument("--batch", type=int, default=50, help="coredumps per worker batch")
    parser.add_argument("--database", default="dre_bench_ingest")
    return parser.parse_args()


def _environment(args, database_url: str) -> dict[str, str]:
    files = Path(tempfile.mkdtemp(prefix="dre-bench-ingest-"))
    (files / "static").mkdir()
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
        "CACHE_URL": os.environ.get("CACHE_URL") or "redis://127.0.0.1:6379/1",
        "BLOB_ROOT": str(files / "blobs"),
        "STATIC_ROOT": str(files / "static"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PROJECT_RATE_LIMIT": "100000000/m",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "60",  # as the README's deployment guide says
        **({"WEB_CONCURRENCY": str(args.workers)} if args.workers else {}),
        "GUNICORN_ACCESS_LOG": "",
        # No recycling mid-run: a replaced worker's CPU would vanish from the meter
        # (cpu.py reads live processes) and its restart would land in one phase only.
        "GUNICORN_MAX_REQUESTS": "0",
        "PORT": str(_free_port()),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _maintenance(server: str):
    import psycopg

    url = urlsplit(server)._replace(path="/postgres", scheme="postgresql").geturl()
    return psycopg.connect(url, autocommit=True)


def _recreate(server: str, name: str) -> None:
    with _maintenance(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _setup_django(env: dict[str, str]) -> str:
    """Migrate the scratch database in this process and return a new project key."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from dre.accounts.services import organization_create, project_create, project_key_create

    organization = organization_create(slug="bench", name="Bench")
    project = project_create(organization=organization, slug="firmware", name="Firmware")
    _forget_rate_limits(project.pk)
    _deploy_release(project)
    return project_key_create(project=project, name="bench")[1]


def _forget_rate_limits(project_pk: int) -> None:
    """Drop counters an earlier run's project of the same id left in the cache: runs
    a minute apart would otherwise add up to its devices' limits (429s, 503s)."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    for scope in (f"project:{project_pk}:*", f"device:{project_pk}:*"):
        for key in client.scan_iter(match=cache.make_key(f"ratelimit:{scope}")):
            client.delete(key)


def _deploy_release(project) -> None:
    """Release 2.0.0 for hardware evt, active for the default cohort: the release the
    releases/latest phase's devices (on 1.0.0) are offered."""
    from dre import blobs
    from dre.fleet.services import cohort_get_default
    from dre.releases.services import artifact_add, deployment_activate, release_get_or_create

    release = release_get_or_create(project, "main", "2.0.0")
    payload = blobs.blob_save_bytes(blobs.blob_name("ota", project.pk, ".bin"), b"\0" * 4096)
    artifact_add(release, "evt", payload, filename="2.0.0.bin")
    deployment_activate(release, cohort_get_default(project))


def _print_machine(args) -> None:
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load_average} at the start; "
          f"gunicorn {_gunicorn_size()}, client threads {args.clients}")  # fmt: skip


def _gunicorn_size() -> str:
    """The workers and threads dre.gunicorn_conf gives under this run's environment."""
    import importlib

    import dre.gunicorn_conf

    conf = importlib.reload(dre.gunicorn_conf)  # it reads the environment at import
    return f"workers {conf.workers} x {conf.threads} threads"


def _ingest(env: dict[str, str], project_key: str, args) -> None:
    port = int(env["PORT"])
    server = _start_gunicorn(env)
    try:
        load.wait_until_serving(port, server)
        rows = load.measure_endpoints(port, project_key, args, cpu.meter(server.pid, args.database))
    finally:
        server.terminate()
        server.wait(timeout=30)
    load.print_table(rows)


def _start_gunicorn(env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "-c", "python:dre.gunicorn_conf", "dre.wsgi"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _clean_up(server: str, name: str, env: dict[str, str]) -> None:
    from django.db import connections

    connections.close_all()
    with _maintenance(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(Path(env["BLOB_ROOT"]).parent, ignore_errors=True)
    _purge_published(env["CELERY_BROKER_URL"])


def _purge_published(broker: str) -> None:
    """Drop the tasks the uploads queued: their coredumps went with the database."""
    from dre.celery import app

    with app.connection_for_write(broker) as connection:
        channel = connection.default_channel
        purged = sum(channel.queue_purge(queue) or 0 for queue in QUEUES)
    print(f"\nremoved {purged} queued tasks of this run from the broker")


if __name__ == "__main__":
    main()

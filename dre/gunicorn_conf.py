"""gunicorn settings for dre's web process, from the environment (see .env.example).

    gunicorn -c python:dre.gunicorn_conf dre.wsgi

gunicorn reads this module's names as its settings. Requests are short (ingest
stores bytes and queues the rest; pages read the database), so a few threads
per worker and a tight timeout suit them; the slow work is in Celery workers.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number") from None


bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{_int('PORT', 8000)}"
# Threads let a worker keep connections alive and overlap its requests' waits on
# PostgreSQL commits and Redis: ingest is mostly waiting, not computing. The
# device endpoints share one commit among the requests waiting at the same time
# (dre/batching.py), so the more threads wait together, the fewer commits: 32
# threads per process gave 2 to 3 times the ingest rate of 8 (bench/results). But
# they contend for one GIL, and every hand-off is a context switch: on 2 CPUs, 3
# processes of 24 threads served a no-op 15 % faster than 2 of 32, and ingest
# requests at a higher share of that (bench/results, "Group commit without models").
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 24)
# gunicorn's advice: (2 x cores) + 1 workers. Each thread may hold a PostgreSQL
# connection (DATABASE_CONN_MAX_AGE), and so does the process's UpdateCheck writer
# (dre/releases/update_checks.py), so by default the web processes together stay
# within WEB_DB_CONNECTIONS (96, under a default PostgreSQL's 100).
CONNECTIONS_PER_WORKER = threads + 1
workers = _int(
    "WEB_CONCURRENCY",
    max(
        1,
        min(
            2 * multiprocessing.cpu_count() + 1,
            _int("WEB_DB_CONNECTIONS", 96) // CONNECTIONS_PER_WORKER,
        ),
    ),
)
# A request that takes longer than this is stuck: the worker is killed and replaced.
# The largest upload (a symbol file, MAX_SYMBOL_FILE_BYTES) streams to storage
# within it only on a fast link, hence the setting.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
# Import the app before forking: workers share its memory and start fast.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Headers a proxy on another machine sets; gunicorn trusts only these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def post_fork(server, worker):
    """Each worker moves what the preloaded app holds out of the garbage collector's
    sight, as Celery workers do (dre.celery.worker_heap_freeze, which says why)."""
    from dre.celery import worker_heap_freeze

    worker_heap_freeze()

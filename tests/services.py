"""CI must run every test against real PostgreSQL and Redis: fail loudly if either is missing."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest


def require_services() -> None:
    problems = [p for p in (_postgres_problem(), _redis_problem()) if p]
    if problems:
        pytest.exit("required services are missing:\n  " + "\n  ".join(problems), returncode=3)


def _postgres_problem() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"DATABASE_URL must point at PostgreSQL, got {url!r}"
    import psycopg

    # The database itself may not exist yet (pytest-django creates test_<name>),
    # so check the server through its maintenance database.
    server = urlsplit(url)._replace(path="/postgres", scheme="postgresql").geturl()
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL at {url} is unreachable: {exc}"
    return None


def _redis_problem() -> str | None:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return f"CELERY_BROKER_URL must point at Redis, got {url!r}"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} is unreachable: {exc}"
    return None


def services_configured() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")) and bool(
        os.environ.get("CELERY_BROKER_URL")
    )

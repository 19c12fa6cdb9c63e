"""Per-project generation counters in the shared cache: a process may keep what it
derived from a project's rows for as long as the generation it read with them is
still the current one.

A change bumps the counter once its transaction committed. Every process reads the
counter (one cache round trip) before it trusts what it kept, so a change is seen
by the next request of every process. A counter the cache lost is started again
from the clock, never from a value handed out before; and what a process keeps also
expires by age (the caller's), in case a bump could not reach the cache.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# The generation of what `releases/latest` reads (dre/releases/device_cache.py).
RELEASES = "releases"

# What a cache backend raises when its server is down (as dre.ingest.ratelimit).
CACHE_OUTAGE = (RedisError, OSError)


def _key(name: str, project_id: int) -> str:
    return f"generation:{name}:{project_id}"


def generation_get(name: str, project_id: int) -> int | None:
    """The current generation; None when the cache cannot say (trust nothing kept)."""
    key = _key(name, project_id)
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, time.time_ns())  # only the first of several racing wins
            value = cache.get(key)
    except CACHE_OUTAGE as exc:
        log.warning("generation %s unreadable, the cache is unreachable: %s", key, exc)
        return None
    return value


def generation_bump(name: str, project_id: int) -> None:
    """Make every kept copy stale, now and again once the current transaction
    commits: a request between the two may have kept the rows as they were."""
    key = _key(name, project_id)
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def _bump(key: str) -> None:
    try:
        cache.set(key, time.time_ns())
    except CACHE_OUTAGE as exc:  # what processes kept expires by age instead
        log.warning("generation %s not bumped, the cache is unreachable: %s", key, exc)

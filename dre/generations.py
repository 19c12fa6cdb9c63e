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


# A process asks the cache for a generation at most once per READ_EVERY_SECONDS: a
# change made by another process is seen that much later at most (a change made by
# this process at once). Devices asking for updates many times a second then cost
# no round trip for it.
READ_EVERY_SECONDS = 1.0
_read: dict[str, tuple[int, float]] = {}


def generation_get(name: str, project_id: int) -> int | None:
    """The current generation; None when the cache cannot say (trust nothing kept)."""
    key = _key(name, project_id)
    known = _read.get(key)
    if known is not None and time.monotonic() - known[1] < READ_EVERY_SECONDS:
        return known[0]
    value = _fetch(key)
    if value is not None:
        _read[key] = (value, time.monotonic())
    return value


def _fetch(key: str) -> int | None:
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, time.time_ns(), timeout=None)  # the first of several racing wins
            value = cache.get(key)
    except CACHE_OUTAGE as exc:
        log.warning("generation %s unreadable, the cache is unreachable: %s", key, exc)
        return None
    return value


def generations_forget() -> None:
    """Forget what this process read (tests: another test's cache was cleared)."""
    _read.clear()


def generation_bump(name: str, project_id: int) -> None:
    """Make every kept copy stale, now and again once the current transaction
    commits: a request between the two may have kept the rows as they were."""
    key = _key(name, project_id)
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def _bump(key: str) -> None:
    _read.pop(key, None)  # this process sees its own change at once
    try:
        cache.set(key, time.time_ns(), timeout=None)
    except CACHE_OUTAGE as exc:  # what processes kept expires by age instead
        log.warning("generation %s not bumped, the cache is unreachable: %s", key, exc)

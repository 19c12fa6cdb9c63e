"""Fixed-window rate limits counted in the shared cache.

A window is a whole number of seconds; the counter for the current window
lives under a key that names the window, so it expires by itself.

When the cache is unreachable the limiter lets requests through: a limit is a
protection against floods, and refusing every device for as long as Redis is
down would lose the crashes the service exists to collect.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

from dre.batching import GroupCommit

log = logging.getLogger(__name__)

# What a cache backend raises when its server is down: redis-py's errors for
# Django's RedisCache, socket errors for the others.
CACHE_OUTAGE = (RedisError, OSError)

RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@functools.lru_cache(maxsize=64)  # every device request parses the settings' rates
def parse_rate(text: str) -> Rate:
    """Parse '120/m', '10/s' or '1000/5m'."""
    match = RATE.match(text or "")
    if not match:
        raise ValueError(f"rate {text!r} is not of the form N/s, N/m, N/h or N/d")
    count, multiplier, unit = match.groups()
    return Rate(int(count), int(multiplier or 1) * UNIT_SECONDS[unit])


def rate_limit_hit(scope: str, identity: str, rate: str, now: float | None = None) -> int | None:
    """Count one request; return seconds to wait when over the limit, else None."""
    return rate_limits_hit([(scope, identity, rate)], now)[0]


def rate_limits_hit(checks: list[tuple[str, str, str]], now: float | None = None) -> list:
    """Count one request against each (scope, identity, rate), all in one round trip
    on Redis; return, per check, seconds to wait when over its limit, else None."""
    now = time.time() if now is None else now
    limits = [parse_rate(rate) for _, _, rate in checks]
    windows = [int(now // limit.seconds) for limit in limits]
    keys = [
        (f"ratelimit:{scope}:{identity}:{window}", limit.seconds + 1)
        for (scope, identity, _), limit, window in zip(checks, limits, windows, strict=True)
    ]
    try:
        counts = _count(keys)
    except CACHE_OUTAGE as exc:
        scopes = ", ".join(scope for scope, _, _ in checks)
        log.warning("rate limit %s not applied, the cache is unreachable: %s", scopes, exc)
        return [None] * len(checks)
    return [
        None if count <= limit.count else max(1, int((window + 1) * limit.seconds - now))
        for count, limit, window in zip(counts, limits, windows, strict=True)
    ]


def _count(keys: list[tuple[str, int]]) -> list[int]:
    """Add one to each window's counter and return the new counts.

    Every device request counts here, so on Redis it is one round trip (INCR and
    EXPIRE of every key in one MULTI); Django's add + incr would be three per key
    (incr checks EXISTS).
    """
    if isinstance(cache._cache, RedisCacheClient):
        # make_key, not make_and_validate_key: the validation warns of keys memcached
        # refuses (a scan of every character), and these are Redis keys of our making.
        return _counted.submit([(cache.make_key(k), t) for k, t in keys])
    return [_count_one(key, timeout) for key, timeout in keys]


def _count_on_redis(groups: list[list[tuple[str, int]]]) -> list[list[int]]:
    """The counts of several requests' keys in one MULTI: concurrent requests of a
    process share the round trip (dre/batching.py) as they share a commit."""
    # One client for all keys: Django's RedisCache writes to its first server
    # whatever the key.
    pipeline = cache._cache.get_client(groups[0][0][0], write=True).pipeline()
    for keys in groups:
        for redis_key, timeout in keys:
            pipeline.incr(redis_key).expire(redis_key, timeout)
    counts = iter(pipeline.execute()[::2])
    return [[next(counts) for _ in keys] for keys in groups]


_counted = GroupCommit(write=_count_on_redis)


def _count_one(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1

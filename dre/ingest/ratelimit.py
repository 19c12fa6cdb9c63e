"""Fixed-window rate limits counted in the shared cache.

A window is a whole number of seconds; the counter for the current window
lives under a key that names the window, so it expires by itself.

When the cache is unreachable the limiter lets requests through: a limit is a
protection against floods, and refusing every device for as long as Redis is
down would lose the crashes the service exists to collect.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

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


def parse_rate(text: str) -> Rate:
    """Parse '120/m', '10/s' or '1000/5m'."""
    match = RATE.match(text or "")
    if not match:
        raise ValueError(f"rate {text!r} is not of the form N/s, N/m, N/h or N/d")
    count, multiplier, unit = match.groups()
    return Rate(int(count), int(multiplier or 1) * UNIT_SECONDS[unit])


def rate_limit_hit(scope: str, identity: str, rate: str, now: float | None = None) -> int | None:
    """Count one request; return seconds to wait when over the limit, else None."""
    limit = parse_rate(rate)
    now = time.time() if now is None else now
    window = int(now // limit.seconds)
    key = f"ratelimit:{scope}:{identity}:{window}"
    try:
        count = _count(key, timeout=limit.seconds + 1)
    except CACHE_OUTAGE as exc:
        log.warning("rate limit %s not applied, the cache is unreachable: %s", scope, exc)
        return None
    if count <= limit.count:
        return None
    return max(1, int((window + 1) * limit.seconds - now))


def _count(key: str, timeout: int) -> int:
    """Add one to a window's counter and return the new count.

    Every device request counts here, so on Redis it is one round trip (INCR and
    EXPIRE in a MULTI); Django's add + incr would be three (incr checks EXISTS).
    """
    if isinstance(cache._cache, RedisCacheClient):
        redis_key = cache.make_and_validate_key(key)
        pipeline = cache._cache.get_client(redis_key, write=True).pipeline()
        count, _ = pipeline.incr(redis_key).expire(redis_key, timeout).execute()
        return count
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1

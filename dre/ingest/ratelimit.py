"""Fixed-window rate limits counted in the shared cache.

A window is a whole number of seconds; the counter for the current window
lives under a key that names the window, so it expires by itself.

When the cache is unreachable the limiter lets requests through: a limit is a
protection against floods, and refusing every device for as long as Redis is
down would lose the crashes the service exists to collect.

A process decides a request on its own, without the cache, while the window's
count is far from the limit: it read the count less than `SYNC_SECONDS` ago, and
even if each of `RATE_LIMIT_SHARERS` processes added as many requests as this one
has since, the limit would hold. Those requests are added to the cache's counter
with the next request that asks it. Near the limit every request asks the cache,
so a 429 comes exactly where it would without the shortcut. The price: the cache's
count trails by what processes decided alone in the last second, so a flood spread
over more processes than RATE_LIMIT_SHARERS, or one whose windows a process stops
asking about, can pass the limit by that much; a device that keeps flooding is
refused within a second.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
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
    on Redis (or none, see the module's doc); return, per check, seconds to wait when
    over its limit, else None."""
    now = time.time() if now is None else now
    limits = [parse_rate(rate) for _, _, rate in checks]
    windows = [int(now // limit.seconds) for limit in limits]
    keys = [
        f"ratelimit:{scope}:{identity}:{window}"
        for (scope, identity, _), window in zip(checks, windows, strict=True)
    ]
    asked = _tally.count(keys, limits, windows, now)
    if asked:
        try:
            counts = _count([(keys[i], limits[i].seconds + 1, amount) for i, amount in asked])
        except CACHE_OUTAGE as exc:
            _tally.forget([keys[i] for i, _ in asked])
            scopes = ", ".join(scope for scope, _, _ in checks)
            log.warning("rate limit %s not applied, the cache is unreachable: %s", scopes, exc)
            return [None] * len(checks)
        for (i, _), count in zip(asked, counts, strict=True):
            _tally.read(keys[i], count, now)
    return [
        None if _tally.within(key, limit) else max(1, int((window + 1) * limit.seconds - now))
        for key, limit, window in zip(keys, limits, windows, strict=True)
    ]


@dataclass
class _Window:
    """What this process knows of one counter: its value when last read, and the
    requests counted here since, not yet added to it."""

    read: int
    read_at: float
    ends: float
    pending: int = 0


class _Tally:
    """This process's view of the counters of current windows (see the module doc)."""

    MAX_WINDOWS = 20_000  # then windows that ended are dropped

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def count(self, keys, limits, windows, now) -> list[tuple[int, int]]:
        """Count one request in each key; return (index, amount) of the keys whose
        counter must be asked now, amount being what to add to it."""
        sharers = settings.RATE_LIMIT_SHARERS
        asked = []
        with self._lock:
            for i, (key, limit) in enumerate(zip(keys, limits, strict=True)):
                window = self._windows.get(key)
                if (
                    window is not None
                    and now - window.read_at < SYNC_SECONDS
                    and window.read + (window.pending + 1) * sharers <= limit.count
                ):
                    window.pending += 1
                    continue
                pending = window.pending if window is not None else 0
                asked.append((i, pending + 1))
                if window is None:
                    ends = (windows[i] + 1) * limit.seconds
                    self._windows[key] = _Window(read=0, read_at=-SYNC_SECONDS, ends=ends)
                else:
                    window.pending = 0
            if len(self._windows) > self.MAX_WINDOWS:
                self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
        return asked

    def read(self, key: str, count: int, now: float) -> None:
        with self._lock:
            window = self._windows.get(key)
            if window is not None:
                window.read, window.read_at = count, now

    def within(self, key: str, limit: Rate) -> bool:
        window = self._windows.get(key)
        return window is None or window.read + window.pending <= limit.count

    def forget(self, keys: list[str]) -> None:
        """The cache could not be asked: start these windows afresh next time."""
        with self._lock:
            for key in keys:
                self._windows.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


# How old a read count may be for a process to decide alone.
SYNC_SECONDS = 1.0
_tally = _Tally()


def rate_limit_tally_clear() -> None:
    """Forget what this process knows of the counters (tests that empty the cache)."""
    _tally.clear()


def _count(increments: list[tuple[str, int, int]]) -> list[int]:
    """Add each amount to its window's counter and return the new counts.

    Every device request that asks the cache counts here, so on Redis it is one round
    trip (INCRBY and EXPIRE of every key in one MULTI); Django's add + incr would be
    three per key (incr checks EXISTS).
    """
    if isinstance(cache._cache, RedisCacheClient):
        # make_key, not make_and_validate_key: the validation warns of keys memcached
        # refuses (a scan of every character), and these are Redis keys of our making.
        return _counted.submit([(cache.make_key(k), t, n) for k, t, n in increments])
    return [_count_one(key, timeout, amount) for key, timeout, amount in increments]


def _count_on_redis(groups: list[list[tuple[str, int, int]]]) -> list[list[int]]:
    """The counts of several requests' keys in one MULTI: concurrent requests of a
    process share the round trip (dre/batching.py) as they share a commit."""
    # One client for all keys: Django's RedisCache writes to its first server
    # whatever the key.
    pipeline = cache._cache.get_client(groups[0][0][0], write=True).pipeline()
    for keys in groups:
        for redis_key, timeout, amount in keys:
            pipeline.incrby(redis_key, amount).expire(redis_key, timeout)
    counts = iter(pipeline.execute()[::2])
    return [[next(counts) for _ in keys] for keys in groups]


_counted = GroupCommit(write=_count_on_redis)


def _count_one(key: str, timeout: int, amount: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.set(key, amount, timeout=timeout)
        return amount

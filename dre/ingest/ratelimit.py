"""Fixed-window rate limits counted in the shared cache.

A window is a whole number of seconds; the counter for the current window
lives under a key that names the window, so it expires by itself.

When the cache is unreachable the limiter lets requests through: a limit is a
protection against floods, and refusing every device for as long as Redis is
down would lose the crashes the service exists to collect.

A process decides a request on its own, without the cache, in two cases:

1. The window's count is far from the limit: it was read less than `SYNC_SECONDS`
   ago, and even if each of `RATE_LIMIT_SHARERS` processes added as many requests
   as this one has since, the limit would hold.
2. The process has no fresh count of the window (a device's first request of a
   minute: most requests of a real fleet), no blind request of it is still waiting to
   be counted, and its last count, if any, was far from the limit: the request
   goes through *blind*.

A blind request is added to its counter by the process's flusher thread within
`FLUSH_SECONDS`, with what the process decided alone in the same window, in one
round trip for all such windows, and the counts it reads back are the process's
fresh counts; the other requests decided alone reach the cache with their window's
next question or flush, a second later at most while requests come. Near the limit
every request asks the cache, after any flush of its window under way, so a 429
comes exactly at the limit, with one exception: a blind request lands past it when
other processes (or this one, over a second ago) used the window up, and once per
window and process at most, since the count it brings back forbids another. So a
window admits at most its limit plus one request per web process. The other price:
the cache's count trails by what processes decided alone in the last second, so a
flood spread over more processes than RATE_LIMIT_SHARERS can pass the limit by
that much; a device that keeps flooding is refused within a second.
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

from dre.batching import Drainer, GroupCommit

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
    if asked and (outage := _ask(keys, limits, asked, now)) is not None:
        scopes = ", ".join(scope for scope, _, _ in checks)
        log.warning("rate limit %s not applied, the cache is unreachable: %s", scopes, outage)
        return [None] * len(checks)
    return [
        None if _tally.within(key, limit) else max(1, int((window + 1) * limit.seconds - now))
        for key, limit, window in zip(keys, limits, windows, strict=True)
    ]


def _ask(keys, limits, asked: list[tuple[int, int, threading.Event | None]], now):
    """Add the asked amounts to their counters and note the counts read back; return
    the error when the cache is unreachable, else None. A flush of the same window
    under way is waited for first, so that the count read back includes it."""
    for _, _, flushing in asked:
        if flushing is not None:
            flushing.wait(timeout=FLUSH_WAIT_SECONDS)
    try:
        counts = _count([(keys[i], limits[i].seconds + 1, amount) for i, amount, _ in asked])
    except CACHE_OUTAGE as exc:
        _tally.forget([keys[i] for i, _, _ in asked])
        return exc
    for (i, _, _), count in zip(asked, counts, strict=True):
        _tally.read(keys[i], count, now)
    return None


@dataclass
class _Window:
    """What this process knows of one counter: its value when last read, and the
    requests counted here since, not yet added to it."""

    read: int
    read_at: float
    ends: float
    pending: int = 0
    seen: float = 0.0  # when the latest request counted in `pending` came
    blind: bool = False  # a request went through blind; its count is not read yet
    flushing: threading.Event | None = None  # set once the flush under way is read

    def fresh(self, now: float) -> bool:
        return now - self.read_at < SYNC_SECONDS

    def far_from(self, limit: Rate, sharers: int) -> bool:
        return self.read + (self.pending + 1) * sharers <= limit.count

    def note(self, count: int, at: float) -> None:
        """A count read back as of `at`, which also holds this window's blind request.
        Counts only grow: an answer overtaken by a newer one is older."""
        self.read, self.read_at = max(self.read, count), max(self.read_at, at)
        self.blind = False


class _Tally:
    """This process's view of the counters of current windows (see the module doc)."""

    MAX_WINDOWS = 20_000  # then windows that ended are dropped

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._blind: set[str] = set()  # keys of the windows the next flush reads

    def count(self, keys, limits, windows, now) -> list[tuple[int, int, threading.Event | None]]:
        """Count one request in each key; return (index, amount, flushing) of the keys
        whose counter must be asked now, amount being what to add to it, flushing the
        flush of that window to wait for first (or None)."""
        sharers = settings.RATE_LIMIT_SHARERS
        asked, blind = [], False
        with self._lock:
            for i, (key, limit) in enumerate(zip(keys, limits, strict=True)):
                window = self._windows.get(key)
                if window is None:
                    ends = (windows[i] + 1) * limit.seconds
                    window = self._windows[key] = _Window(read=0, read_at=-SYNC_SECONDS, ends=ends)
                if window.fresh(now) and window.far_from(limit, sharers):
                    pass  # case 1 of the module's doc
                elif not (window.blind or window.flushing) and window.far_from(limit, sharers):
                    window.blind = blind = True  # case 2
                    self._blind.add(key)
                else:
                    asked.append((i, window.pending + 1, window.flushing))
                    window.pending = 0
                    continue
                window.pending += 1
                window.seen = max(window.seen, now)
            if len(self._windows) > self.MAX_WINDOWS:
                self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
        if blind:
            _flusher.wake()
        return asked

    def read(self, key: str, count: int, now: float) -> None:
        with self._lock:
            window = self._windows.get(key)
            if window is not None:
                window.note(count, now)

    def within(self, key: str, limit: Rate) -> bool:
        window = self._windows.get(key)
        return window is None or window.read + window.pending <= limit.count

    def forget(self, keys: list[str]) -> None:
        """The cache could not be asked: start these windows afresh next time."""
        with self._lock:
            for key in keys:
                window = self._windows.pop(key, None)
                if window is not None and window.flushing is not None:
                    window.flushing.set()

    def clear(self) -> None:
        """Forget every window, once a flush under way has reached the cache."""
        with self._lock:
            flushes = {w.flushing for w in self._windows.values() if w.flushing is not None}
        for flushing in flushes:
            flushing.wait(timeout=FLUSH_WAIT_SECONDS)
        with self._lock:
            self._windows.clear()
            self._blind.clear()

    def take_pending(self, flushing: threading.Event) -> list[tuple[str, int, float, float]]:
        """(key, amount, seen, ends) of the windows with a blind request, now marked as
        flushing, with everything this process counted in them: a window's count must
        be read once a blind request passed, the others' requests can wait for it (a
        second at most: a request that finds its read older goes blind)."""
        taken = []
        with self._lock:
            for key in self._blind:
                window = self._windows.get(key)
                if window is not None and window.pending and window.flushing is None:
                    taken.append((key, window.pending, window.seen, window.ends))
                    window.pending, window.flushing = 0, flushing
            self._blind.clear()
        return taken

    def flushed(self, counts: dict[str, tuple[int, float]]) -> None:
        """Note the counts a flush read back (key -> (count, as of when))."""
        with self._lock:
            for key, (count, seen) in counts.items():
                window = self._windows.get(key)
                if window is not None:
                    window.note(count, seen)
                    window.flushing = None


def _flush() -> None:
    """Read the counts of the windows where a request went through blind, adding what
    the process decided alone in them, all in one round trip."""
    flushing = threading.Event()
    taken = _tally.take_pending(flushing)
    try:
        if taken:
            counts = _count([(key, int(ends - seen) + 1, n) for key, n, seen, ends in taken])
            read = {key: (c, seen) for (key, _, seen, _), c in zip(taken, counts, strict=True)}
            _tally.flushed(read)
    except CACHE_OUTAGE as exc:
        _tally.forget([key for key, _, _, _ in taken])
        log.warning("rate limit counts not added, the cache is unreachable: %s", exc)
    except Exception:  # these windows start afresh
        _tally.forget([key for key, _, _, _ in taken])
        log.exception("rate limit counts not added")
    finally:
        flushing.set()


# How old a read count may be for a process to decide alone.
SYNC_SECONDS = 1.0
# How long a blind request waits at most to be added to the cache's counter.
FLUSH_SECONDS = 0.05
# How long a request that must ask waits for a flush of its window under way.
FLUSH_WAIT_SECONDS = 1.0
_tally = _Tally()
# One thread per process flushes, at most FLUSH_SECONDS after a blind request.
_flusher = Drainer(_flush, FLUSH_SECONDS, "ratelimit-flusher")


def rate_limit_flush() -> None:
    """Add what this process decided alone to the cache's counters now (tests)."""
    _flush()


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

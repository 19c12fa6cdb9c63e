"""Fixed-window rate limits."""

import threading

import pytest
import redis.connection
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient

from dre.ingest import ratelimit
from dre.ingest.ratelimit import parse_rate, rate_limit_flush, rate_limit_hit, rate_limits_hit


@pytest.fixture(autouse=True)
def flushed_by_hand(monkeypatch):
    """No flusher thread: the tests flush when a process's thread would have."""
    monkeypatch.setattr(ratelimit._flusher, "wake", lambda: None)
    ratelimit._flusher.settle()  # what an earlier test in this process woke it for


@pytest.mark.parametrize(
    ("text", "count", "seconds"), [("10/s", 10, 1), ("120/m", 120, 60), ("5/2h", 5, 7200)]
)
def test_it_parses_rates(text, count, seconds):
    rate = parse_rate(text)
    assert (rate.count, rate.seconds) == (count, seconds)


def test_it_refuses_nonsense():
    with pytest.raises(ValueError, match="N/s"):
        parse_rate("often")


def test_it_counts_within_a_window_and_says_how_long_to_wait():
    now = 1_000_000.0
    assert [rate_limit_hit("t", "a", "2/m", now) for _ in range(2)] == [None, None]
    wait = rate_limit_hit("t", "a", "2/m", now)
    assert 0 < wait <= 60
    assert rate_limit_hit("t", "a", "2/m", now + 60) is None  # the next window


def test_identities_count_separately():
    assert rate_limit_hit("t", "a", "1/m", 0) is None
    assert rate_limit_hit("t", "b", "1/m", 0) is None


def test_on_redis_a_window_counts_in_one_key_that_expires_with_it():
    if not isinstance(cache._cache, RedisCacheClient):
        pytest.skip("CACHE_URL is not Redis")
    now = 1_000_000.0  # window 16666 of a minute
    for _ in range(3):
        rate_limit_hit("t", "a", "5/m", now)

    key = cache.make_and_validate_key("ratelimit:t:a:16666")
    client = cache._cache.get_client(key)
    assert cache.get("ratelimit:t:a:16666") == 3
    assert 0 < client.ttl(key) <= 61


def test_it_counts_several_scopes_at_once_and_answers_for_each():
    now = 1_000_000.0
    checks = [("project", "1", "5/m"), ("device", "1:unit-7", "1/m")]

    assert rate_limits_hit(checks, now) == [None, None]
    project_wait, device_wait = rate_limits_hit(checks, now)
    assert project_wait is None
    assert 0 < device_wait <= 60


def test_on_redis_every_scope_of_a_request_counts_in_one_round_trip(monkeypatch):
    if not isinstance(cache._cache, RedisCacheClient):
        pytest.skip("CACHE_URL is not Redis")
    rate_limits_hit([("warm", "a", "5/m")])  # opens the connection
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    rate_limits_hit([("project", "1", "5/m"), ("device", "1:unit-7", "5/m")])

    assert len(sent) == 1


class _RedisRoundTrips:
    def __init__(self, monkeypatch):
        self.sent = 0
        send = redis.connection.AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):
            self.sent += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


@pytest.fixture
def redis_round_trips(monkeypatch):
    if not isinstance(cache._cache, RedisCacheClient):
        pytest.skip("CACHE_URL is not Redis")
    rate_limits_hit([("warm", "a", "5/m")])  # opens the connection
    return _RedisRoundTrips(monkeypatch)


def test_a_windows_first_request_goes_through_blind_and_the_flush_counts_it(
    redis_round_trips, settings
):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0  # window 16666 of a minute

    assert rate_limit_hit("device", "1:a", "100/m", now) is None
    assert redis_round_trips.sent == 0

    rate_limit_flush()  # what the process's flusher thread does within FLUSH_SECONDS

    assert redis_round_trips.sent == 1
    assert cache.get("ratelimit:device:1:a:16666") == 1


def test_far_from_its_limit_a_process_decides_without_asking_redis(redis_round_trips, settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0
    rate_limit_hit("project", "1", "100/m", now)
    rate_limit_flush()  # reads the counter

    answers = [rate_limit_hit("project", "1", "100/m", now + i / 100) for i in range(1, 20)]

    assert answers == [None] * 19
    assert redis_round_trips.sent == 1


def test_what_it_decided_alone_reaches_redis_with_the_next_flush(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0  # window 16666 of a minute
    rate_limit_hit("project", "1", "100/m", now)
    rate_limit_flush()
    for i in range(1, 10):
        rate_limit_hit("project", "1", "100/m", now + i / 100)
    assert cache.get("ratelimit:project:1:16666") == 1

    rate_limit_hit("project", "1", "100/m", now + 1.5)  # the read is a second old: blind
    rate_limit_flush()

    assert cache.get("ratelimit:project:1:16666") == 11


def test_near_its_limit_every_request_asks_and_the_429_comes_exactly_at_the_limit(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0

    answers = [rate_limit_hit("device", "1:a", "20/m", now) for _ in range(21)]

    assert answers[:20] == [None] * 20
    assert 0 < answers[20] <= 60
    assert cache.get("ratelimit:device:1:a:16666") == 21


def test_other_processes_counts_are_seen_within_a_second_and_one_blind_request(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0
    assert rate_limit_hit("device", "1:a", "20/m", now) is None
    rate_limit_flush()
    cache.incr("ratelimit:device:1:a:16666", 19)  # other processes used the rest

    assert rate_limit_hit("device", "1:a", "20/m", now + 0.1) is None  # still decided alone
    assert rate_limit_hit("device", "1:a", "20/m", now + 1.2) is None  # the read is old: blind
    rate_limit_flush()  # reads 22
    assert rate_limit_hit("device", "1:a", "20/m", now + 1.3) is not None


def test_a_window_admits_its_limit_and_at_most_one_blind_request_per_process(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0
    cache.set("ratelimit:device:1:a:16666", 20)  # other processes used the window up

    assert rate_limit_hit("device", "1:a", "20/m", now) is None  # blind: nothing known
    rate_limit_flush()

    later = [rate_limit_hit("device", "1:a", "20/m", now + t) for t in (0.1, 1.5, 15)]
    assert all(wait is not None for wait in later)  # each asked: the count is near the limit
    assert cache.get("ratelimit:device:1:a:16666") == 24


def test_a_request_that_must_ask_waits_for_its_windows_flush_under_way(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0
    assert rate_limit_hit("device", "1:a", "20/m", now) is None  # blind
    flushing = threading.Event()
    taken = ratelimit._tally.take_pending(flushing)  # a flush has taken it, not answered yet
    answered = []
    asking = threading.Thread(
        target=lambda: answered.append(rate_limit_hit("device", "1:a", "20/m", now))
    )

    asking.start()
    asking.join(timeout=0.2)
    assert asking.is_alive()  # its count must include the blind request's
    cache.set("ratelimit:device:1:a:16666", taken[0][1], timeout=60)  # the flush lands
    ratelimit._tally.flushed({"ratelimit:device:1:a:16666": (taken[0][1], now)})
    flushing.set()
    asking.join(timeout=5)

    assert answered == [None]
    assert cache.get("ratelimit:device:1:a:16666") == 2

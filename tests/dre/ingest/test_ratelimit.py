"""Fixed-window rate limits."""

import pytest
import redis.connection
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient

from dre.ingest.ratelimit import parse_rate, rate_limit_hit, rate_limits_hit


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


def test_far_from_its_limit_a_process_decides_without_asking_redis(redis_round_trips, settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0

    answers = [rate_limit_hit("project", "1", "100/m", now + i / 100) for i in range(20)]

    assert answers == [None] * 20
    assert redis_round_trips.sent == 1  # the first request reads the counter


def test_what_it_decided_alone_reaches_redis_with_the_next_question(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0  # window 16666 of a minute
    for i in range(10):
        rate_limit_hit("project", "1", "100/m", now + i / 100)
    assert cache.get("ratelimit:project:1:16666") == 1

    rate_limit_hit("project", "1", "100/m", now + 1.5)  # the read is a second old: ask

    assert cache.get("ratelimit:project:1:16666") == 11


def test_near_its_limit_every_request_asks_and_the_429_comes_exactly_at_the_limit(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0

    answers = [rate_limit_hit("device", "1:a", "20/m", now) for _ in range(21)]

    assert answers[:20] == [None] * 20
    assert 0 < answers[20] <= 60
    assert cache.get("ratelimit:device:1:a:16666") == 21


def test_other_processes_counts_are_seen_within_a_second(settings):
    settings.RATE_LIMIT_SHARERS = 4
    now = 1_000_000.0
    assert rate_limit_hit("device", "1:a", "20/m", now) is None
    cache.incr("ratelimit:device:1:a:16666", 19)  # other processes used the rest

    assert rate_limit_hit("device", "1:a", "20/m", now + 0.1) is None  # still decided alone
    assert rate_limit_hit("device", "1:a", "20/m", now + 1.2) is not None  # read again

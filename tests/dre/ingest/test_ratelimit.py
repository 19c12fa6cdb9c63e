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

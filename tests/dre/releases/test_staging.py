"""Staged rollouts pick devices by a stable hash of the deployment and the serial."""

import uuid

import pytest

from dre.releases.staging import is_staged

SERIALS = [f"SN{n:08d}" for n in range(10_000)]


@pytest.mark.parametrize("percent", [1, 5, 20, 50, 90])
def test_it_stages_the_percentage_within_two_points_at_ten_thousand_serials(percent):
    salt = str(uuid.UUID(int=percent))

    staged = sum(is_staged(salt, serial, percent) for serial in SERIALS)

    assert abs(staged / len(SERIALS) * 100 - percent) <= 2


def test_widening_keeps_every_device_staged_before():
    salt = str(uuid.uuid4())
    at_5 = {s for s in SERIALS if is_staged(salt, s, 5)}
    at_20 = {s for s in SERIALS if is_staged(salt, s, 20)}

    assert at_5 <= at_20
    assert len(at_20) > len(at_5)


def test_the_choice_is_reproducible_and_differs_between_deployments():
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    once = [is_staged(first, s, 10) for s in SERIALS]

    assert once == [is_staged(first, s, 10) for s in SERIALS]
    assert once != [is_staged(second, s, 10) for s in SERIALS]


def test_a_full_rollout_reaches_everyone():
    assert all(is_staged("any", s, 100) for s in SERIALS[:100])

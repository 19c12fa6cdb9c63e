"""The synthetic fleet generator that the benchmark uses."""

import pytest
from django.db import connection

from dre.health.models import DirtyDay, HeartbeatInterval, StabilityDailyRollup
from dre.health.rollups import rollup_dirty_days
from dre.health.selectors import stability_by
from dre.health.synthetic import (
    FleetShape,
    synthetic_fleet,
    synthetic_fleet_copy,
    synthetic_fleet_generated,
)

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="loads day partitions, which PostgreSQL has"
)


def test_it_builds_a_fleet_whose_rollups_add_up(project):
    shape = FleetShape(
        devices=6, intervals=30, metrics=8, releases=(("1.0.0", 0.0), ("2.0.0", 1.0))
    )

    assert synthetic_fleet(project, shape) == 180
    while rollup_dirty_days():
        pass

    assert HeartbeatInterval.objects.count() == 180
    assert sum(StabilityDailyRollup.objects.values_list("sessions", flat=True)) == 180
    by_version = {str(s.group): s for s in stability_by(project, "software_version")}
    hours = sorted(
        (s.crash_free_hours.value, s.crash_free_hours.sample) for s in by_version.values()
    )
    assert hours == [(0.0, 90.0), (1.0, 90.0)]


@postgresql_only
@pytest.mark.parametrize("load", [synthetic_fleet_copy, synthetic_fleet_generated])
def test_the_partition_loaders_fill_each_day_and_mark_it_for_the_rollups(project, load):
    shape = FleetShape(devices=6, intervals=30, metrics=8)
    days = []

    assert load(project, shape, progress=lambda day, count: days.append((day, count))) == 180

    assert HeartbeatInterval.objects.filter(project=project).count() == 180
    assert [day for day, _ in days] == sorted({i.day for i in HeartbeatInterval.objects.all()})
    assert days[-1][1] == 180
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {day for day, _ in days}

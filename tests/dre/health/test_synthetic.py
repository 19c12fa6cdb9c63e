"""The synthetic fleet generator that the benchmark uses."""

import pytest

from dre.health.models import HeartbeatInterval, StabilityDailyRollup
from dre.health.rollups import rollup_dirty_days
from dre.health.selectors import stability_by
from dre.health.synthetic import FleetShape, synthetic_fleet

pytestmark = pytest.mark.django_db


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

"""Stability numbers from heartbeats and reboots sent through the chunk endpoint."""

from datetime import date

import pytest

from dre.health.models import Reboot
from dre.health.rollups import rollup_day
from dre.health.selectors import stability_by
from dre.health.stats import mean_time_between, poisson_interval, wilson
from tests.builders import heartbeat_info, reboot_info, sdk_event
from tests.dre.health.conftest import DAY_START

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000
DAY = date(2025, 12, 4)


def hourly(hour, version="1.0.0", **values):
    values.setdefault("MemfaultSdkMetric_IntervalMs", HOUR_MS)
    return sdk_event(
        1,
        heartbeat_info(values),
        software_version=version,
        captured_at=DAY_START + int(hour * 3600),
    )


def reboot(hour, reason, version="1.0.0"):
    return sdk_event(
        2, reboot_info(reason), software_version=version, captured_at=DAY_START + int(hour * 3600)
    )


def by_version(project):
    rollup_day(project.pk, DAY)
    from dre.fleet.models import SoftwareVersion

    names = {v.pk: v.version for v in SoftwareVersion.objects.all()}
    return {names[s.group]: s for s in stability_by(project, "software_version")}


def test_it_names_and_classifies_reboot_reasons_as_memfault_does(send, project):
    send(reboot(1, 0x0003), reboot(2, 0x8001), reboot(3, 0x9302), reboot(4, 0x0000))

    reasons = list(Reboot.objects.order_by("time").values_list("reason_name", "unexpected"))
    assert reasons == [
        ("FirmwareUpdate", False),
        ("Assert", True),
        ("UsageFault (INVSTATE)", True),
        ("Unknown", True),
    ]


def test_it_takes_crash_free_hours_from_the_operational_hours_metrics(send, project):
    send(*[hourly(h, operational_hours=1, operational_crashfree_hours=1) for h in range(1, 9)])
    send(hourly(9, operational_hours=1, operational_crashfree_hours=0))
    send(hourly(10, operational_hours=1, operational_crashfree_hours=1))

    stability = by_version(project)["1.0.0"]
    assert stability.crash_free_hours.value == pytest.approx(0.9)
    assert stability.crash_free_hours.sample == 10
    assert stability.crash_free_hours.low == pytest.approx(wilson(9, 10).low)


def test_without_operational_hours_an_interval_with_an_unexpected_reboot_is_not_crash_free(
    send, project
):
    send(*[hourly(h) for h in range(1, 5)])
    send(reboot(2.5, 0x8005))  # a hardware watchdog inside the third hour

    stability = by_version(project)["1.0.0"]
    assert stability.crash_free_hours.value == pytest.approx(0.75)
    assert stability.crash_free_sessions.value == pytest.approx(0.75)
    assert stability.crash_free_sessions.sample == 4
    assert stability.crash_free_devices.value == 0
    assert stability.unexpected_reboots == 1


def test_an_expected_reboot_crashes_nothing(send, project):
    send(*[hourly(h) for h in range(1, 3)])
    send(reboot(1.5, 0x0003))

    stability = by_version(project)["1.0.0"]
    assert stability.crash_free_hours.value == 1
    assert (stability.unexpected_reboots, stability.expected_reboots) == (0, 1)


def test_it_counts_the_sdk_reboot_counter_and_the_event_as_one_reboot(send, project):
    send(hourly(1, MemfaultSdkMetric_UnexpectedRebootCount=1))
    send(reboot(0.5, 0x8008))

    assert by_version(project)["1.0.0"].unexpected_reboots == 1


def test_mean_time_between_unexpected_reboots_has_an_exact_poisson_interval(send, project):
    send(*[hourly(h, operational_hours=1, operational_crashfree_hours=1) for h in range(1, 21)])
    send(reboot(3, 0x8001), reboot(7, 0x8001))

    mtbf = by_version(project)["1.0.0"].mean_hours_between_unexpected_reboots
    low_count, high_count = poisson_interval(2)
    assert mtbf.value == pytest.approx(10.0)
    assert (mtbf.low, mtbf.high) == pytest.approx((20 / high_count, 20 / low_count))
    assert mtbf.sample == 20


def test_a_small_release_gets_a_wider_interval_than_a_large_one(send, project):
    send(*[hourly(h, version="1.0.0") for h in range(1, 3)], serial="small")
    for n in range(6):
        send(*[hourly(h, version="2.0.0") for h in range(1, 21)], serial=f"big-{n}")

    stability = by_version(project)
    small, big = stability["1.0.0"].crash_free_hours, stability["2.0.0"].crash_free_hours
    assert small.value == big.value == 1
    assert small.low < big.low
    assert (small.sample, big.sample) == (2, 120)


def test_wilson_matches_the_published_interval():
    """Newcombe (1998), table I: 81 of 263 gives 0.2553 to 0.3662."""
    estimate = wilson(81, 263)
    assert (estimate.low, estimate.high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_garwood_matches_the_published_interval():
    """Garwood (1936): 0 events gives 0 to 3.689; 10 gives 4.795 to 18.39."""
    assert poisson_interval(0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert poisson_interval(10) == pytest.approx((4.795, 18.39), abs=1e-2)
    assert mean_time_between(0, 100).high is None


def test_a_reboot_with_a_64_bit_pc_keeps_its_event_but_gets_no_health_row(send, project):
    from dre.ingest.models import Event

    send(sdk_event(2, reboot_info(0x8001, pc=1 << 40), captured_at=DAY_START))

    assert Event.objects.filter(kind="reboot").count() == 1
    assert not Reboot.objects.exists()

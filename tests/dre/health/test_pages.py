"""The fleet health overview and the device page."""

import time

import pytest

from dre.health.rollups import rollup_dirty_days
from tests.builders import heartbeat_info, reboot_info, sdk_event

pytestmark = pytest.mark.django_db
HOUR_MS = 3_600_000


def recent_fleet(send):
    now = int(time.time()) // 3600 * 3600
    for serial in ("dev-1", "dev-2"):
        send(
            *[
                sdk_event(
                    1,
                    heartbeat_info(
                        {"MemfaultSdkMetric_IntervalMs": HOUR_MS, "battery_soc_pct": 90 - h}
                    ),
                    captured_at=now - h * 3600,
                )
                for h in range(1, 4)
            ],
            serial=serial,
        )
    send(sdk_event(2, reboot_info(0x8001, pc=0x8000401), captured_at=now - 2 * 3600 - 60))
    rollup_dirty_days()


def test_the_overview_shows_a_stability_card_per_release_with_intervals(client, alice, send):
    recent_fleet(send)
    client.force_login(alice)

    page = client.get("/acme/sensors/health/").content.decode()

    assert 'data-testid="release-card"' in page
    assert "main 1.0.0" in page
    assert "83.33 %" in page  # 5 of 6 hours crash-free: one reboot inside one hour
    assert "95 % CI" in page
    assert "Assert" in page
    assert '<strong data-testid="active-devices">2</strong>' in page


def test_the_device_page_shows_facts_timeline_and_metric_series(client, bob, send):
    recent_fleet(send)
    client.force_login(bob)

    response = client.get("/acme/sensors/devices/dev-1/")
    page = response.content.decode()

    assert response.status_code == 200
    for fact in ("evt_1", "main 1.0.0", "default"):
        assert fact in page
    assert page.count('class="timeline-heartbeat"') == 3
    assert "Assert (unexpected), pc 0x08000401" in page
    assert "battery_soc_pct" in page


def test_a_device_of_another_project_is_a_404(client, charlie, send):
    recent_fleet(send)
    client.force_login(charlie)

    assert client.get("/acme/sensors/devices/dev-1/").status_code == 404
    assert client.get("/acme/sensors/health/").status_code == 404

"""The fleet firmware end to end with real parts: its chunks, posted one by one to a live
server as the device exported them, wait for their ELF; memfault-cli uploads it; a real
Celery worker on Redis and PostgreSQL names everything; dre's REST API and device page
show what the firmware computed (tests/fleet_expectations.py)."""

from datetime import datetime

import pytest
import requests

from dre.accounts.services import api_token_create
from dre.diagnostics.models import TraceEvent
from dre.fleet.models import Device
from dre.health.models import HeartbeatInterval, StabilityDailyRollup
from dre.health.tasks import rollup_dirty_days
from tests import fleet_expectations as expected
from tests.firmware_fixtures import FLEET_SERIAL, fleet_chunks, fleet_elf_path
from tests.integration.conftest import device_post, wait_for
from tests.memfault_cli import memfault

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
INTERVALS = len(expected.heartbeats())


def post_chunks(live_server, project_key: str) -> None:
    for chunk in fleet_chunks():
        response = device_post(
            f"{live_server.url}/api/v0/chunks/{FLEET_SERIAL}", chunk, project_key
        )
        assert response.status_code == 202, response.text


def upload_elf(live_server, org_token: str) -> None:
    symbols = memfault(
        live_server,
        "upload-mcu-symbols",
        str(fleet_elf_path(compressed=True)),  # as CI uploads the SDK example's
        org_token=org_token,
        org="acme",
        project="sensors",
    )
    assert symbols.returncode == 0, symbols.stderr


def resolved() -> bool:
    states = list(HeartbeatInterval.objects.values_list("state", flat=True))
    return len(states) == INTERVALS and set(states) == {HeartbeatInterval.State.RESOLVED}


def api(live_server, acme, alice, path: str):
    token = api_token_create(organization=acme, user=alice)[1]
    response = requests.get(
        f"{live_server.url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_devices_chunks_wait_for_the_elf_then_show_as_the_firmware_computed_them(
    live_worker, live_server, org_token, project_key, project, acme, alice, client
):
    post_chunks(live_server, project_key)
    wait_for(lambda: HeartbeatInterval.objects.count() == INTERVALS)
    assert not HeartbeatInterval.objects.filter(state=HeartbeatInterval.State.RESOLVED).exists()

    upload_elf(live_server, org_token)
    wait_for(resolved)

    device = Device.objects.get(serial=FLEET_SERIAL)
    base = f"projects/{project.pk}/devices/{device.pk}"
    heartbeats = api(live_server, acme, alice, f"{base}/heartbeats/?limit=100")["results"]
    assert {when(h["ended"]): (h["session"], h["values"]) for h in heartbeats} == (
        expected.heartbeats()
    )
    reboots = api(live_server, acme, alice, f"{base}/reboots/?limit=100")["results"]
    shown = sorted(
        (when(r["time"]), r["reason_name"], r["unexpected"], r["pc"], r["lr"]) for r in reboots
    )
    assert shown == expected.reboots()

    # Trace events are named and grouped by their own tasks once the ELF is indexed.
    wait_for(lambda: not TraceEvent.objects.filter(issue__isnull=True).exists())
    client.force_login(alice)
    page = client.get(f"/acme/sensors/devices/{FLEET_SERIAL}/").content.decode()
    for title in expected.trace_event_titles():
        assert title in page


def test_the_workers_rollups_give_the_stability_the_firmware_counted(
    live_worker, live_server, org_token, project_key, project, acme, alice
):
    upload_elf(live_server, org_token)
    post_chunks(live_server, project_key)
    wait_for(resolved)

    rollup_dirty_days.delay()
    wait_for(lambda: StabilityDailyRollup.objects.exists())

    (row,) = api(live_server, acme, alice, f"projects/{project.pk}/health/stability/")
    want = expected.stability()
    assert row["crash_free_sessions"]["sample"] == want["sessions"]
    assert row["crash_free_sessions"]["value"] == 1 - want["crashed_sessions"] / want["sessions"]
    assert row["crash_free_hours"]["sample"] == want["operational_hours"]
    assert (row["unexpected_reboots"], row["expected_reboots"]) == (
        want["unexpected_reboots"],
        want["expected_reboots"],
    )

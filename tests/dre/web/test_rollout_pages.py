"""Rollout pages: the evidence on the release page, adoption, the version matrix, and
the cohort pages (devices, moving them, the rollout rule)."""

import pytest

from dre.fleet.models import Device
from dre.fleet.services import cohort_get_default, cohort_get_or_create, device_seen
from dre.fleet.services import software_version_get as version
from dre.releases import selectors, tasks
from dre.releases.models import CohortPolicy
from dre.releases.services import deployment_activate
from tests.dre.releases.conftest import make_release, rollout  # noqa: F401 (fixtures)
from tests.dre.web.conftest import login

pytestmark = pytest.mark.django_db


def test_the_release_page_shows_why_the_rule_halted_with_both_releases_numbers(
    client,
    alice,
    rollout,  # noqa: F811
):
    deployment = rollout(old_rate=0.01, new_rate=0.05)
    tasks.evaluate_rollouts()

    page = login(client, alice).get(f"/acme/sensors/releases/{deployment.release_id}/")

    [item] = page.context["safety"]
    assert item["decision"].action == "halt"
    assert b"unexpected reboots per hour are" in page.content
    assert b"1.1.0 against 1.0.0 since" in page.content
    curve = page.context["charts"]["safety"][str(deployment.pk)]
    assert {"new", "old"} <= curve[0].keys()
    assert (
        curve[-1]["new"]["crash_free_hours"]["low"] < curve[-1]["new"]["crash_free_hours"]["value"]
    )
    assert b'data-safety="%d"' % deployment.pk in page.content


def test_the_release_page_says_what_the_rule_waits_for(client, alice, project, make_release):  # noqa: F811
    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project), percent=5)

    page = login(client, alice).get(f"/acme/sensors/releases/{deployment.release_id}/")

    assert page.context["safety"][0]["decision"].action == "wait"
    assert b"no devices of this cohort report an older version to compare with" in page.content


def test_adoption_counts_devices_that_asked_were_offered_and_reported_per_day(
    client,
    project,
    project_key,
    make_release,  # noqa: F811
):
    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project))
    for serial in ("dev-1", "dev-2"):
        client.get("/api/v0/releases/latest",
                   {"device_serial": serial, "hardware_version": "evt", "software_type": "main",
                    "current_version": "1.0.0" if serial == "dev-1" else "2.0.0"},
                   headers={"Memfault-Project-Key": project_key})  # fmt: skip

    [today] = selectors.release_adoption(deployment)

    assert (today["asked"], today["offered"], today["reported"]) == (2, 1, 0)


def test_the_version_matrix_shows_the_staged_release_and_what_the_others_get(
    client,
    alice,
    project,
    make_release,  # noqa: F811
):
    default = cohort_get_default(project)
    beta = cohort_get_or_create(project, "beta")
    deployment_activate(make_release("1.5.0"), default)
    deployment_activate(make_release("2.0.0"), default, percent=20)
    for serial, cohort in (("dev-1", default), ("dev-2", default), ("dev-3", beta)):
        device_seen(project, serial, software_version=version(project, "main", "1.0.0"))
        Device.objects.filter(serial=serial).update(cohort=cohort)

    page = login(client, alice).get("/acme/sensors/releases/matrix/")

    [row] = page.context["rows"]
    cohorts = [c.slug for c in page.context["cohorts"]]
    cell = row["cells"][cohorts.index("default")]
    assert (row["version"], cell.devices, cell.staged_percent) == ("1.0.0", 2, 20)
    assert (str(cell.staged), str(cell.otherwise)) == ("2.0.0", "1.5.0")
    assert row["cells"][cohorts.index("beta")].otherwise is None
    assert b"20 % staged" in page.content


def test_a_member_moves_devices_by_serial_and_by_attribute(client, bob, project):
    beta = cohort_get_or_create(project, "beta")
    for serial, board in (("dev-1", "evt"), ("dev-2", "dvt"), ("dev-3", "dvt")):
        device_seen(project, serial, hardware_version=_board(project, board))
    login(client, bob)

    client.post("/acme/sensors/cohorts/beta/devices/", {"serials": "dev-1"})
    by_filter = client.post("/acme/sensors/cohorts/beta/devices/",
                            {"hardware_version": "dvt"}, follow=True)  # fmt: skip
    unknown = client.post("/acme/sensors/cohorts/beta/devices/", {"serials": "dev-1, nope"},
                          follow=True)  # fmt: skip

    assert set(beta.devices.values_list("serial", flat=True)) == {"dev-1", "dev-2", "dev-3"}
    assert b"Moved 2 devices into beta" in by_filter.content
    assert b"no such devices in this project: nope" in unknown.content
    page = client.get("/acme/sensors/cohorts/beta/")
    assert page.context["device_count"] == 3


def _board(project, name):
    from dre.fleet.services import hardware_version_get

    return hardware_version_get(project, name)


def test_a_member_sets_the_rollout_rule_and_a_viewer_cannot(client, bob, victor, project):
    cohort_get_default(project)
    rule = {"min_hours": 100, "min_devices": 10, "margin": 0.1, "alpha": 0.01,
            "auto_widen": "on", "widen_after_hours": 12, "safety_enabled": "on"}  # fmt: skip

    login(client, bob).post("/acme/sensors/cohorts/default/policy/", rule)
    refused = login(client, victor).post("/acme/sensors/cohorts/default/policy/", {})

    policy = CohortPolicy.objects.get()
    assert (policy.min_hours, policy.margin, policy.auto_widen, policy.alpha) == (
        100, 0.1, True, 0.01,
    )  # fmt: skip
    assert refused.status_code == 403
    listing = client.get("/acme/sensors/cohorts/")
    assert (
        b"halts beyond 0.10 worse after 100 h and 10 devices; widens by itself" in listing.content
    )


def test_a_member_creates_a_cohort(client, bob, project):
    response = login(client, bob).post("/acme/sensors/cohorts/", {"slug": "field", "name": "Field"})

    assert response.status_code == 302
    assert response["Location"].endswith("/cohorts/field/")

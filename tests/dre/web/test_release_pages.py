"""The releases list and a release's page: payloads, deployments per cohort, counts."""

import pytest

from dre.fleet.services import cohort_get_default, cohort_get_or_create
from dre.releases.models import Deployment
from dre.releases.services import deployment_activate
from tests.dre.releases.conftest import make_release  # noqa: F401 (fixture)
from tests.dre.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed(project, make_release, client, project_key):  # noqa: F811
    release = make_release("2.0.0", notes="Radio fix")
    deployment_activate(release, cohort_get_default(project), percent=100)
    for serial, current in [("dev-1", "1.0.0"), ("dev-2", "2.0.0")]:
        client.get(
            "/api/v0/releases/latest",
            {"device_serial": serial, "hardware_version": "evt", "software_type": "main",
             "current_version": current},
            headers={"Memfault-Project-Key": project_key},
        )  # fmt: skip
    return release


def test_the_list_shows_each_release_where_it_is_deployed_and_how_many_were_offered(
    client, alice, deployed
):
    response = login(client, alice).get("/acme/sensors/releases/")

    assert response.status_code == 200
    row = response.context["rows"][0]
    assert (row["release"], row["offered"]) == (deployed, 1)
    assert b"default 100 %" in response.content


def test_the_release_page_shows_payloads_and_who_asked_and_was_offered(client, alice, deployed):
    response = login(client, alice).get(f"/acme/sensors/releases/{deployed.pk}/")

    assert response.status_code == 200
    rollout = response.context["rollouts"][0]
    assert (rollout.asked, rollout.offered, rollout.on_version) == (2, 1, 1)
    assert deployed.artifacts.get().md5.encode() in response.content
    assert b"Radio fix" in response.content


def test_a_member_deploys_and_widens_from_the_page(client, bob, project, make_release):  # noqa: F811
    release = make_release("2.0.0")
    cohort_get_or_create(project, "beta")
    login(client, bob)

    client.post(f"/acme/sensors/releases/{release.pk}/deploy/",
                {"cohort": "beta", "rollout_percent": 5})  # fmt: skip
    deployment = Deployment.objects.get()
    client.post(f"/acme/sensors/deployments/{deployment.pk}/",
                {"action": "widen", "rollout_percent": 20, "reason": "no crashes"})  # fmt: skip

    deployment.refresh_from_db()
    assert (deployment.cohort.slug, deployment.rollout_percent) == ("beta", 20)
    assert deployment.log.last().reason == "no crashes"


def test_a_viewer_sees_no_controls_and_cannot_post(client, victor, deployed):
    login(client, victor)

    page = client.get(f"/acme/sensors/releases/{deployed.pk}/")
    refused = client.post(f"/acme/sensors/deployments/{deployed.deployments.get().pk}/",
                          {"action": "pull"})  # fmt: skip

    assert b'id="deploy"' not in page.content
    assert refused.status_code == 403
    assert deployed.deployments.get().status == "active"


def test_another_organizations_release_is_a_404(client, charlie, deployed):
    response = login(client, charlie).get(f"/acme/sensors/releases/{deployed.pk}/")

    assert response.status_code == 404

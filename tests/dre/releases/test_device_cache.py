"""releases/latest keeps what it reads per process; every change that alters an
answer makes it stale for the next request (dre/releases/device_cache.py)."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dre.fleet.services import cohort_get_default, cohort_get_or_create, devices_move_to_cohort
from dre.releases.formats import release_json
from dre.releases.models import Artifact, UpdateCheck
from dre.releases.services import (
    cohort_policy_set,
    deployment_activate,
    deployment_pause,
    deployment_resume,
)
from dre.releases.staging import is_staged
from dre.releases.update_checks import update_checks_flush
from tests.dre.releases.test_device_api import QUERY

# Committed for real: the generation is bumped by on-commit hooks, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ask(client, project_key):
    def get(**params):
        query = urlencode({**QUERY, **params})
        return client.get(
            f"/api/v0/releases/latest?{query}", headers={"Memfault-Project-Key": project_key}
        )

    return get


@pytest.fixture
def deployed(project, make_release):
    release = make_release("2.0.0")
    return deployment_activate(release, cohort_get_default(project))


def test_a_second_question_reads_no_release_rows(ask, deployed):
    assert ask().status_code == 200

    with CaptureQueriesContext(connection) as queries:
        assert ask().status_code == 200

    read = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in read if "releases_" in sql or "fleet_device" in sql], read
    update_checks_flush()
    assert UpdateCheck.objects.count() == 2  # every answer is still recorded


def test_a_paused_deployment_is_no_longer_offered_on_the_next_question(ask, deployed):
    assert ask().status_code == 200

    deployment_pause(deployed)

    assert ask().status_code == 204
    deployment_resume(deployed)
    assert ask().status_code == 200


def test_a_new_release_is_offered_on_the_next_question(ask, deployed, project, make_release):
    assert ask().json()["version"] == "2.0.0"

    deployment_activate(make_release("3.0.0"), cohort_get_default(project))

    assert ask().json()["version"] == "3.0.0"


def test_a_device_moved_to_another_cohort_gets_that_cohorts_answer(ask, deployed, project):
    assert ask().status_code == 200

    devices_move_to_cohort(project, ["dev-1"], cohort_get_or_create(project, "beta"))

    assert ask().status_code == 204
    update_checks_flush()
    assert UpdateCheck.objects.order_by("pk").last().cohort.slug == "beta"


def test_a_cohort_that_now_allows_downgrades_is_offered_one(ask, project, make_release):
    deployment_activate(make_release("1.0.0"), cohort_get_default(project))
    assert ask(current_version="2.0.0").status_code == 204

    cohort_policy_set(cohort_get_default(project), allow_downgrades=True)

    assert ask(current_version="2.0.0").json()["version"] == "1.0.0"


def test_with_the_cache_down_it_answers_from_the_database(ask, deployed, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    assert ask().status_code == 200


def test_a_kept_answer_is_the_release_json_as_rendered_afresh(ask, deployed):
    ask()
    kept = ask().json()

    artifact = Artifact.objects.get(release=deployed.release)
    assert kept == release_json(deployed.release, artifact, kept["artifacts"][0]["url"])


def test_a_kept_answer_still_follows_each_devices_staging(ask, project, make_release):
    deployment = deployment_activate(make_release("2.0.0"), cohort_get_default(project), percent=50)
    serials = [f"dev-{n}" for n in range(40)]

    answers = {s: ask(device_serial=s).status_code for s in serials + serials}

    assert answers == {s: 200 if is_staged(str(deployment.salt), s, 50) else 204 for s in serials}

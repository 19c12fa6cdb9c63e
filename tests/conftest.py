"""Shared fixtures: the cast (Alice, Bob on her team, Victor who only reads, Charlie
outside it), their organizations and projects, and the services CI must provide."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from dre.accounts.models import Role
from dre.accounts.services import (
    api_token_create,
    membership_set,
    organization_create,
    project_create,
    project_key_create,
)
from dre.celery import app as celery_app
from dre.fleet.services import row_cache_clear
from dre.ingest.auth import project_key_cache_clear
from dre.ingest.ratelimit import rate_limit_tally_clear
from dre.symbols.cache import symbol_index_cache_clear
from tests.dre.alerts.receiver import Receiver

PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
        from tests.services import require_services

        require_services()
    _cache_database_per_worker()


def _cache_database_per_worker():
    """Each test empties the cache, and on Redis that empties its whole database: so
    that one pytest-xdist worker never empties it under another's test, worker gwN
    uses the Redis database of CACHE_URL plus N."""
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache_settings = settings.CACHES["default"]
    if not worker.startswith("gw") or not cache_settings["BACKEND"].endswith("RedisCache"):
        return
    location = urlsplit(cache_settings["LOCATION"])
    database = int(location.path.strip("/") or 0) + int(worker[2:])
    cache_settings["LOCATION"] = location._replace(path=f"/{database}").geturl()


@pytest.fixture(scope="session")
def gdb() -> str:
    """gdb-multiarch, the reference dre is compared with; CI installs it."""
    path = shutil.which("gdb-multiarch")
    if path:
        return path
    if os.environ.get("DRE_REQUIRE_SERVICES") == "1":
        pytest.fail("gdb-multiarch is missing: CI must `apt-get install gdb-multiarch`")
    pytest.skip("gdb-multiarch is not installed")


@pytest.fixture(autouse=True)
def _isolated_blobs_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "blobs")
    # Counts of another test, forgotten before the cache is emptied: the limiter's
    # flusher thread may still be adding them.
    rate_limit_tally_clear()
    cache.clear()
    symbol_index_cache_clear()  # indexes loaded from another test's blobs
    project_key_cache_clear()
    row_cache_clear()  # versions of another test's database
    # Unit tests run tasks in-process; tests/integration runs a real worker.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, **extra):
        return django_user_model.objects.create_user(
            username, email=f"{username}@example.com", password=PASSWORD, **extra
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def charlie(make_user):
    return make_user("charlie")


@pytest.fixture
def victor(make_user, acme):
    """A viewer of acme: reads, never changes."""
    user = make_user("victor")
    membership_set(user=user, organization=acme, role=Role.VIEWER)
    return user


@pytest.fixture
def acme(alice, bob):
    organization = organization_create(slug="acme", name="Acme")
    membership_set(user=alice, organization=organization, role=Role.ADMIN)
    membership_set(user=bob, organization=organization, role=Role.MEMBER)
    return organization


@pytest.fixture
def project(acme):
    return project_create(organization=acme, slug="sensors", name="Sensors")


@pytest.fixture
def project_key(project) -> str:
    return project_key_create(project=project, name="devices")[1]


@pytest.fixture
def org_token(acme) -> str:
    return api_token_create(organization=acme, name="ci")[1]


def bearer(token: str) -> dict:
    """The header that presents an API token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice_token(acme, alice) -> str:
    return api_token_create(organization=acme, user=alice)[1]


@pytest.fixture
def bob_token(acme, bob) -> str:
    return api_token_create(organization=acme, user=bob)[1]


@pytest.fixture
def charlie_token(globex, charlie) -> str:
    return api_token_create(organization=globex, user=charlie)[1]


@pytest.fixture
def victor_token(acme, victor) -> str:
    return api_token_create(organization=acme, user=victor)[1]


@pytest.fixture
def globex(charlie):
    organization = organization_create(slug="globex", name="Globex")
    membership_set(user=charlie, organization=organization, role=Role.ADMIN)
    return organization


@pytest.fixture
def other_project(globex):
    return project_create(organization=globex, slug="turbines")


@pytest.fixture
def other_project_key(other_project) -> str:
    return project_key_create(project=other_project)[1]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what services queue with delay_on_commit, as a committed request would."""

    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


@pytest.fixture
def receiver():
    """A real HTTP server that checks and keeps the webhooks it gets."""
    started = Receiver().start()
    yield started
    started.stop()

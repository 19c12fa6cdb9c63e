"""An answer of releases/latest is recorded by its process's writer, not while the
device waits (dre/releases/update_checks.py)."""

from urllib.parse import urlencode

import pytest
from django.utils import timezone

from dre.batching import WriteBehind
from dre.fleet.models import Device
from dre.fleet.services import cohort_get_default
from dre.releases import update_checks
from dre.releases.models import UpdateCheck
from dre.releases.services import deployment_activate
from dre.releases.update_checks import update_checks_flush
from tests.dre.releases.test_device_api import QUERY

NEVER = 3600.0  # seconds between the writer thread's own writes: the test flushes


@pytest.fixture
def queue(monkeypatch):
    """The process's queue, written only when the test flushes it."""
    queue = WriteBehind(update_checks.update_checks_write, NEVER, update_checks.MAX_QUEUED)
    monkeypatch.setattr(update_checks, "_queue", queue)
    return queue


@pytest.fixture
def ask(client, project_key, project, make_release):
    deployment_activate(make_release("2.0.0"), cohort_get_default(project))

    def get(**params):
        query = urlencode({**QUERY, **params})
        return client.get(
            f"/api/v0/releases/latest?{query}", headers={"Memfault-Project-Key": project_key}
        )

    return get


@pytest.mark.django_db(transaction=True)
def test_it_answers_before_the_check_is_written_and_records_when_it_answered(ask, queue):
    before = timezone.now()
    assert ask().status_code == 200
    assert UpdateCheck.objects.count() == 0

    update_checks_flush()

    check = UpdateCheck.objects.get()
    assert (check.device.serial, check.outcome, check.release.version.version) == (
        "dev-1",
        "offered",
        "2.0.0",
    )
    assert before <= check.at <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_the_device_is_marked_seen_with_the_versions_it_reported(ask, queue):
    ask(current_version="1.0.0")
    Device.objects.update(software_version=None)  # as if the mark were still to come
    ask(current_version="1.5.0")

    update_checks_flush()

    assert Device.objects.get().software_version.version == "1.5.0"


@pytest.mark.django_db(transaction=True)
def test_a_check_of_a_device_deleted_meanwhile_is_dropped_and_the_others_written(ask, queue):
    ask(device_serial="dev-1")
    ask(device_serial="dev-2")
    Device.objects.filter(serial="dev-2").delete()

    update_checks_flush()

    assert list(UpdateCheck.objects.values_list("device__serial", flat=True)) == ["dev-1"]


@pytest.mark.django_db
def test_inside_a_transaction_the_check_is_written_with_it(ask, queue):
    ask()

    assert UpdateCheck.objects.count() == 1

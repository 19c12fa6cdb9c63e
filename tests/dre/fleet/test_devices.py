"""Devices and versions as device requests record them: few round trips, and
never a remembered row that was rolled back."""

import pytest
from django.db import transaction

from dre.fleet.models import Device, SoftwareVersion
from dre.fleet.services import (
    device_seen,
    device_versions_seen,
    hardware_version_get,
    software_version_get,
)

pytestmark = pytest.mark.django_db


def test_it_creates_a_device_the_first_time_it_is_seen(project):
    device = device_seen(project, "unit-7")

    assert Device.objects.get(project=project, serial="unit-7").pk == device.pk
    assert device.cohort.slug == "default"


def test_it_finds_and_marks_a_known_device_seen_in_one_statement(
    project, django_assert_num_queries
):
    first = device_seen(project, "unit-7")

    with django_assert_num_queries(1):
        again = device_seen(project, "unit-7")

    assert again.pk == first.pk
    assert Device.objects.get(pk=first.pk).last_seen == again.last_seen


def test_it_records_versions_only_when_they_change(project, django_assert_num_queries):
    device = device_seen(project, "unit-7")
    version = software_version_get(project, "main", "1.2.0")
    hardware = hardware_version_get(project, "evt")

    device_versions_seen(device, hardware_version=hardware, software_version=version)
    with django_assert_num_queries(0):
        device_versions_seen(device, hardware_version=hardware, software_version=version)

    stored = Device.objects.get(pk=device.pk)
    assert (stored.software_version, stored.hardware_version) == (version, hardware)


def test_a_device_read_back_knows_its_versions(project):
    version = software_version_get(project, "main", "1.2.0")
    device_seen(project, "unit-7", software_version=version)

    assert device_seen(project, "unit-7").software_version_id == version.pk


def test_it_remembers_a_version_once_committed(project, run_on_commit, django_assert_num_queries):
    version = run_on_commit(software_version_get, project, "main", "1.2.0")

    with django_assert_num_queries(0):
        assert software_version_get(project, "main", "1.2.0") == version


def test_it_never_remembers_a_version_whose_transaction_rolled_back(project, run_on_commit):
    class Abort(Exception):
        pass

    def create_then_fail():
        with transaction.atomic():
            software_version_get(project, "main", "9.9.9")
            raise Abort

    with pytest.raises(Abort):
        run_on_commit(create_then_fail)

    assert not SoftwareVersion.objects.filter(version="9.9.9").exists()
    version = software_version_get(project, "main", "9.9.9")
    assert SoftwareVersion.objects.filter(pk=version.pk).exists()

"""An issue's rollups count each occurrence once per day, hour, version, hardware and
device, and say which devices an issue is seen on for the first time."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from dre.crashes.models import Issue, IssueDay, IssueDevice, IssueHour
from dre.crashes.rollups import Occurrence, rollups_add
from dre.fleet.services import device_seen

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def issue(project):
    now = timezone.now()
    return Issue.objects.create(project=project, title="HardFault", first_seen=now, last_seen=now)


def test_it_counts_occurrences_per_day_and_hour(issue):
    rollups_add([Occurrence(issue.pk, NOON), Occurrence(issue.pk, NOON.replace(hour=13))])
    rollups_add([Occurrence(issue.pk, NOON)])

    assert IssueDay.objects.get(issue=issue).trace_count == 3
    assert sorted(IssueHour.objects.values_list("trace_count", flat=True)) == [1, 2]


def test_it_names_the_devices_an_issue_is_seen_on_for_the_first_time(issue, project):
    one, two = device_seen(project, "dev-1"), device_seen(project, "dev-2")

    first = rollups_add([Occurrence(issue.pk, NOON, device_id=one.pk)] * 2)
    second = rollups_add(
        [Occurrence(issue.pk, NOON, device_id=one.pk), Occurrence(issue.pk, NOON, device_id=two.pk)]
    )

    assert first == {(issue.pk, one.pk)}
    assert second == {(issue.pk, two.pk)}
    assert IssueDevice.objects.get(device=one).trace_count == 3


def test_it_keeps_the_latest_time_a_device_was_seen(issue, project):
    device = device_seen(project, "dev-1")

    rollups_add([Occurrence(issue.pk, NOON, device_id=device.pk)])
    rollups_add([Occurrence(issue.pk, NOON.replace(hour=9), device_id=device.pk)])

    assert IssueDevice.objects.get().last_seen == NOON

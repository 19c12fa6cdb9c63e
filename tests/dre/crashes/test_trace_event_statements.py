"""Grouping one trace event into its issue, as dre.diagnostics hands it over: the
statements it costs stay few (the rollups are one upsert per table)."""

import pytest
from django.utils import timezone

from dre.crashes.grouping.trace_events import TraceEventFacts
from dre.crashes.models import Issue, IssueDevice
from dre.crashes.trace_events import TraceEventOccurrence, trace_event_group
from dre.fleet.services import device_seen, software_version_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def occurrence(project):
    device = device_seen(project, "dev-1")
    version = software_version_get(project, "main", "1.0.0")

    def make(n=1):
        return TraceEventOccurrence(
            project_id=project.pk,
            occurrence_id=n,
            facts=TraceEventFacts(reason=2, reason_name="sensor_timeout", pc_function="poll"),
            received=timezone.now(),
            device_id=device.pk,
            software_version_id=version.pk,
        )

    return make


def test_a_trace_event_of_a_known_issue_takes_at_most_15_statements(
    occurrence, django_assert_max_num_queries
):
    trace_event_group(occurrence(1))

    with django_assert_max_num_queries(15):
        trace_event_group(occurrence(2))

    issue = Issue.objects.get()
    assert (issue.trace_count, issue.device_count) == (2, 1)
    assert IssueDevice.objects.get().trace_count == 2

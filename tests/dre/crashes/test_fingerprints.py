"""A fingerprint goes to one issue: the first mapping saved wins, later ones are told
which issue it went to."""

import pytest
from django.utils import timezone

from dre.crashes.fingerprints import fingerprint_issues, fingerprints_map
from dre.crashes.models import Issue, IssueFingerprint

pytestmark = pytest.mark.django_db


def new_issue(project):
    now = timezone.now()
    return Issue.objects.create(project=project, title="HardFault", first_seen=now, last_seen=now)


def mapping(issue, fingerprint="f" * 64):
    return IssueFingerprint(
        project_id=issue.project_id, fingerprint=fingerprint, issue=issue, grouping_config="test"
    )


def test_it_maps_a_new_fingerprint_to_the_issue_given(project):
    issue = new_issue(project)

    assert fingerprints_map([mapping(issue)]) == {(project.pk, "f" * 64): issue.pk}


def test_it_keeps_the_first_issue_of_a_fingerprint(project):
    first, second = new_issue(project), new_issue(project)
    fingerprints_map([mapping(first)])

    assert fingerprints_map([mapping(second)]) == {(project.pk, "f" * 64): first.pk}
    assert IssueFingerprint.objects.get().issue == first


def test_it_reads_only_the_fingerprints_that_are_mapped(project):
    issue = new_issue(project)
    fingerprints_map([mapping(issue, "a" * 64)])

    found = fingerprint_issues({(project.pk, "a" * 64), (project.pk, "b" * 64)})

    assert found == {(project.pk, "a" * 64): issue.pk}

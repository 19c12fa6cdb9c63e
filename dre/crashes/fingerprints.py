"""Which issue a fingerprint's occurrences go to: reading the mappings, and mapping new
fingerprints safely under workers that race to map the same one.

The unique constraint on (project, fingerprint) decides a race: the first insert holds
the index entry until it commits, a second one then does nothing, and both read back the
winner's issue.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from dre.crashes.models import IssueFingerprint

Key = tuple[int, str]  # (project id, fingerprint)


def fingerprint_issues(keys: set[Key]) -> dict[Key, int]:
    """The issue id each of `keys` is mapped to, for those that are mapped: one SELECT."""
    if not keys:
        return {}
    wanted = Q(pk__in=[])
    for project_id, fingerprints in _by_project(keys).items():
        wanted |= Q(project_id=project_id, fingerprint__in=fingerprints)
    rows = IssueFingerprint.objects.filter(wanted).values_list("project_id", "fingerprint", "issue")
    return {(project_id, fingerprint): issue for project_id, fingerprint, issue in rows}


def fingerprints_map(mappings: list[IssueFingerprint]) -> dict[Key, int]:
    """Save the unsaved `mappings`, each unless its fingerprint is mapped already; return
    the issue id each fingerprint is mapped to afterwards, which is another issue than
    the one asked for where a racing worker mapped the fingerprint first."""
    if not mappings:
        return {}
    IssueFingerprint.objects.bulk_create(mappings, ignore_conflicts=True)
    return fingerprint_issues({(m.project_id, m.fingerprint) for m in mappings})


def _by_project(keys: set[Key]) -> dict[int, list[str]]:
    grouped = defaultdict(list)
    for project_id, fingerprint in keys:
        grouped[project_id].append(fingerprint)
    return grouped

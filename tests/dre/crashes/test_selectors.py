"""Reads for the triage pages: keyset pages, sorts, filters through rollups, charts."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dre.crashes import selectors
from dre.crashes.models import Issue, IssueDay, IssueDevice, IssueVersion
from dre.crashes.selectors import Cursor, IssueFilters
from dre.fleet.models import SoftwareType, SoftwareVersion
from dre.fleet.services import device_seen

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


def make(project, n, **fields):
    defaults = {"title": f"issue {n}", "first_seen": NOON, "last_seen": NOON}
    return Issue.objects.create(project=project, **{**defaults, **fields})


def walk(project, filters, limit):
    """Every page from the first by following `next`, as lists of ids."""
    pages, after = [], None
    while True:
        page = selectors.issue_list(project, filters, after=after, limit=limit)
        pages.append([i.pk for i in page.items])
        if page.next is None:
            return pages
        after = str(page.next)


def test_pages_follow_last_seen_then_id_through_ties(project):
    same = [make(project, n) for n in range(5)]
    newest = make(project, 9, last_seen=NOON + timedelta(hours=1))

    pages = walk(project, IssueFilters(), limit=2)

    assert pages == [[newest.pk, same[4].pk], [same[3].pk, same[2].pk], [same[1].pk, same[0].pk]]


def test_going_back_from_a_cursor_returns_the_previous_page(project):
    made = [make(project, n, trace_count=n) for n in range(5)]
    filters = IssueFilters(sort="traces")
    second = selectors.issue_list(
        project, filters, after=str(Cursor(made[3].trace_count, made[3].pk)), limit=2
    )

    back = selectors.issue_list(project, filters, before=str(second.previous), limit=2)

    assert [i.pk for i in second.items] == [made[2].pk, made[1].pk]
    assert [i.pk for i in back.items] == [made[4].pk, made[3].pk]
    assert back.previous is None


@pytest.mark.parametrize(
    ("sort", "field"),
    [("first_seen", "first_seen"), ("traces", "trace_count"), ("devices", "device_count")],
)
def test_every_sort_pages_through_every_issue_once(project, sort, field):
    for n in range(7):
        value = NOON - timedelta(days=n % 3) if field == "first_seen" else n % 3
        make(project, n, **{field: value})

    pages = walk(project, IssueFilters(sort=sort), limit=3)
    ids = [pk for page in pages for pk in page]
    values = [getattr(Issue.objects.get(pk=pk), field) for pk in ids]

    assert len(ids) == len(set(ids)) == 7
    assert values == sorted(values, reverse=True)


def test_a_malformed_cursor_means_the_first_page(project):
    made = make(project, 1)

    page = selectors.issue_list(project, IssueFilters(), after="yesterday~x")

    assert [i.pk for i in page.items] == [made.pk]


def test_filters_use_the_rollups(project):
    kind = SoftwareType.objects.create(project=project, name="app")
    version = SoftwareVersion.objects.create(software_type=kind, version="1.2.0")
    device = device_seen(project, "dev-7")
    with_version, on_device, neither = make(project, 1), make(project, 2), make(project, 3)
    IssueVersion.objects.create(issue=with_version, software_version=version, trace_count=1)
    IssueDevice.objects.create(issue=on_device, device=device, trace_count=1)

    def ids(**filters):
        return [i.pk for i in selectors.issues_filtered(project, IssueFilters(**filters))]

    assert ids(software_version=version.pk) == [with_version.pk]
    assert ids(device=device.pk) == [on_device.pk]
    assert ids(cohort=device.cohort_id) == [on_device.pk]
    assert set(ids()) == {with_version.pk, on_device.pk, neither.pk}


def test_regressed_is_open_with_a_regression_and_all_leaves_merged_out(project):
    regressed = make(project, 1, regressed_at=NOON)
    make(project, 2)
    merged = make(project, 3, state=Issue.State.MERGED)

    def ids(state):
        return {i.pk for i in selectors.issues_filtered(project, IssueFilters(state=state))}

    assert ids("regressed") == {regressed.pk}
    assert merged.pk not in ids("all")
    assert ids("merged") == {merged.pk}


def test_the_day_chart_fills_days_without_traces(project):
    issue = make(project, 1, first_seen=NOON - timedelta(days=3))
    IssueDay.objects.create(issue=issue, day=date(2026, 11, 17), trace_count=2)
    IssueDay.objects.create(issue=issue, day=date(2026, 11, 20), trace_count=1)

    charts = selectors.issue_charts(issue, today=date(2026, 11, 21))

    assert charts.days == [
        ("2026-11-17", 2),
        ("2026-11-18", 0),
        ("2026-11-19", 0),
        ("2026-11-20", 1),
        ("2026-11-21", 0),
    ]


def test_the_day_chart_keeps_to_its_window(project):
    issue = make(project, 1, first_seen=NOON - timedelta(days=400))

    charts = selectors.issue_charts(issue, today=date(2026, 11, 20), days=30)

    assert len(charts.days) == 30
    assert charts.days[-1][0] == "2026-11-20"


def test_versions_chart_orders_versions_not_text(project):
    kind = SoftwareType.objects.create(project=project, name="app")
    issue = make(project, 1)
    for text, count in [("1.10.0", 1), ("1.9.0", 2), ("1.9.0-rc.1", 3)]:
        version = SoftwareVersion.objects.create(software_type=kind, version=text)
        IssueVersion.objects.create(issue=issue, software_version=version, trace_count=count)

    charts = selectors.issue_charts(issue)

    assert charts.software_versions == [("app 1.9.0-rc.1", 3), ("app 1.9.0", 2), ("app 1.10.0", 1)]
    assert selectors.issue_versions_of([issue.pk])[issue.pk] == ["1.9.0-rc.1", "1.9.0", "1.10.0"]

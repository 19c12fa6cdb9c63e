"""The issue list: states, filters, sorting, keyset pages and bulk actions."""

import pytest

from dre.crashes.models import Issue
from dre.fleet.models import Cohort, Device

pytestmark = pytest.mark.django_db
URL = "/acme/sensors/issues/"


def titles(client, query=""):
    page = client.get(URL + query)
    assert page.status_code == 200
    return [issue.pk for issue in page.context["page"].items]


def test_it_lists_title_state_counts_and_versions(client, alice, crash):
    crash(version="1.0.0")
    issue = Issue.objects.get(pk=crash(version="1.2.0").issue_id)
    client.force_login(alice)

    rows = client.get(URL).content.decode().split("<tbody>")[1]

    assert "MemManage fault: data access violation in record_word_store" in rows
    assert f"#{issue.pk}" in rows
    assert rows.index("1.0.0") < rows.index("1.2.0")  # versions oldest first
    assert '<td class="num">2</td>' in rows


def test_it_tells_same_title_issues_apart_by_culprit_trend_and_spread(client, alice, crash):
    crash(version="1.0.0")
    trace = crash(version="1.2.0", serial="dev-2")
    client.force_login(alice)

    rows = client.get(URL).content.decode().split("<tbody>")[1]

    issue = Issue.objects.get(pk=trace.issue_id)
    assert issue.culprit == "record_word_store ← record_commit ← storage_write_record"
    assert f'frames of the fingerprint"><code>{issue.culprit}</code>' in rows
    assert "2 versions · 1 board" in rows
    assert 'aria-label="2 traces in the last 24 hours"' in rows
    assert 'data-counts="0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2"' in rows


def test_the_list_reads_trends_and_spread_in_a_fixed_number_of_queries(
    client, alice, crash, django_assert_max_num_queries
):
    for n in range(3):
        crash(scenario=["null_write", "div_zero", "assert"][n], version=f"1.{n}.0")
    client.force_login(alice)
    client.get(URL)

    with django_assert_max_num_queries(12):
        client.get(URL)


def test_it_filters_by_state_with_open_as_default(client, bob, crash):
    open_issue = crash().issue_id
    resolved = crash(scenario="div_zero").issue
    resolved.state = Issue.State.RESOLVED
    resolved.save()
    client.force_login(bob)

    assert titles(client) == [open_issue]
    assert titles(client, "?state=resolved") == [resolved.pk]
    assert set(titles(client, "?state=all")) == {open_issue, resolved.pk}


def test_it_filters_by_software_and_hardware_version(client, bob, crash):
    old = crash(version="0.9.0")
    new = crash(scenario="div_zero", version="2.0.0")
    client.force_login(bob)

    version = new.coredump.software_version_id
    hardware = old.coredump.hardware_version_id
    assert titles(client, f"?version={version}") == [new.issue_id]
    assert set(titles(client, f"?hardware={hardware}")) == {old.issue_id, new.issue_id}
    assert titles(client, "?version=999999") == []


def test_it_filters_by_device_serial_and_cohort(client, bob, project, crash):
    first = crash(serial="dev-1")
    second = crash(scenario="div_zero", serial="dev-2")
    lab = Cohort.objects.create(project=project, slug="lab", name="Lab")
    Device.objects.filter(serial="dev-2").update(cohort=lab)
    client.force_login(bob)

    assert titles(client, "?device=dev-1") == [first.issue_id]
    assert titles(client, "?device=nobody") == []
    assert titles(client, f"?cohort={lab.pk}") == [second.issue_id]


def test_it_searches_titles_and_culprits(client, bob, crash):
    other = crash().issue_id
    wanted = crash(scenario="div_zero").issue_id
    client.force_login(bob)

    assert titles(client, "?q=divide") == [wanted]
    assert titles(client, "?q=calc_percent") == [wanted]  # a caller, only in the culprit
    assert titles(client, "?q=storage_write") == [other]


def test_it_sorts_by_traces_and_pages_with_cursors(client, bob, project, crash):
    crash()
    crash()
    busy = crash().issue_id
    quiet = crash(scenario="div_zero").issue_id
    client.force_login(bob)

    assert titles(client, "?sort=traces") == [busy, quiet]
    first = client.get(URL + "?sort=traces").context["page"]
    assert first.next is None


def test_it_pages_older_and_newer_without_offsets(client, bob, project, monkeypatch):
    from django.utils import timezone

    from dre.crashes import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [
        Issue.objects.create(project=project, title=f"issue {n}", first_seen=now, last_seen=now)
        for n in range(5)
    ]
    client.force_login(bob)

    response = client.get(URL)
    older = response.context["older"]
    second = client.get(URL + older)
    newer = client.get(URL + second.context["newer"])

    expected = [i.pk for i in reversed(made)]
    assert [i.pk for i in response.context["page"].items] == expected[:2]
    assert [i.pk for i in second.context["page"].items] == expected[2:4]
    assert [i.pk for i in newer.context["page"].items] == expected[:2]
    assert newer.context["newer"] is None


def test_bob_resolves_and_mutes_in_bulk(client, bob, crash):
    first, second = crash().issue_id, crash(scenario="div_zero").issue_id
    client.force_login(bob)

    response = client.post(
        URL + "bulk/", {"action": "resolve", "issue": [first, second], "next": URL + "?state=open"}
    )

    assert response.status_code == 302
    assert response["Location"] == URL + "?state=open"
    assert set(Issue.objects.values_list("state", flat=True)) == {"resolved"}
    client.post(URL + "bulk/", {"action": "mute", "issue": [first]})
    assert Issue.objects.get(pk=first).state == "muted"


def test_bulk_merge_keeps_the_oldest_issue(client, bob, crash):
    first, second = crash().issue_id, crash(scenario="div_zero").issue_id
    client.force_login(bob)

    client.post(URL + "bulk/", {"action": "merge", "issue": [second, first]})

    assert Issue.objects.get(pk=second).merged_into_id == first
    assert Issue.objects.get(pk=first).trace_count == 2


def test_bulk_merge_of_one_issue_is_refused_with_a_message(client, bob, crash):
    first = crash().issue_id
    client.force_login(bob)

    response = client.post(URL + "bulk/", {"action": "merge", "issue": [first]}, follow=True)

    assert "select at least two issues" in response.content.decode()


def test_bulk_actions_ignore_issues_of_other_projects(client, bob, crash, other_project):
    mine = crash().issue_id
    now = Issue.objects.get(pk=mine).last_seen
    theirs = Issue.objects.create(project=other_project, title="x", first_seen=now, last_seen=now)
    client.force_login(bob)

    client.post(URL + "bulk/", {"action": "resolve", "issue": [mine, theirs.pk]})

    assert Issue.objects.get(pk=theirs.pk).state == "open"
    assert Issue.objects.get(pk=mine).state == "resolved"


def test_victor_the_viewer_reads_but_cannot_act_in_bulk(client, victor, crash):
    issue_id = crash().issue_id
    client.force_login(victor)

    page = client.get(URL).content.decode()
    response = client.post(URL + "bulk/", {"action": "resolve", "issue": [issue_id]})

    assert "Apply to selected" not in page
    assert response.status_code == 403
    assert Issue.objects.get(pk=issue_id).state == "open"


def test_the_bulk_form_never_redirects_off_site(client, bob, crash):
    issue_id = crash().issue_id
    client.force_login(bob)

    response = client.post(
        URL + "bulk/", {"action": "resolve", "issue": [issue_id], "next": "https://evil.example/"}
    )

    assert response["Location"] == URL


def test_a_sparkline_draws_one_bar_per_hour_with_traces_scaled_to_the_busiest():
    from dre.web.templatetags.issues import sparkline

    svg = sparkline([0] * 21 + [1, 0, 4])

    assert 'aria-label="5 traces in the last 24 hours"' in svg
    assert 'd="M84 20v-5h3v5zM92 20v-20h3v20z"' in svg

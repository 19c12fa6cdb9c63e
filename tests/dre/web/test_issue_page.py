"""The issue page: state controls, regressions, merges, comments, activity, charts,
devices, traces and why the traces are grouped."""

import json

import pytest

from dre.crashes import grouping
from dre.crashes.models import Issue, IssueActivity

pytestmark = pytest.mark.django_db


def url(issue, suffix=""):
    return f"/acme/sensors/issues/{issue.pk}/{suffix}"


def refreshed(issue):
    return Issue.objects.get(pk=issue.pk)


def test_it_shows_counts_the_latest_backtrace_and_the_traces(client, bob, crash):
    first = crash(serial="dev-1")
    crash(serial="dev-2")
    client.force_login(bob)

    page = client.get(url(first.issue)).content.decode()

    assert "2 traces on 2 devices" in page
    assert "record_word_store" in page
    assert "src/storage.c:26" in page
    assert f"/acme/sensors/traces/{first.pk}/" in page
    assert "dev-1" in page
    assert "dev-2" in page


def test_it_embeds_chart_data_from_the_rollups(client, bob, crash):
    trace = crash(version="1.0.0")
    crash(version="1.1.0")
    client.force_login(bob)

    response = client.get(url(trace.issue))
    charts = response.context["charts"]

    assert charts["days"][-1][1] == 2
    assert [v[0] for v in charts["software_versions"]] == ["dre-testfw 1.0.0", "dre-testfw 1.1.0"]
    assert charts["hardware_versions"] == [["mps2-an385", 2]]
    assert 'id="chart-data"' in response.content.decode()
    assert json.loads(
        response.content.decode().split('id="chart-data" type="application/json">')[1].split("<")[0]
    )["days"]


def test_it_explains_the_grouping_with_each_parts_hint(client, bob, issue):
    client.force_login(bob)

    page = client.get(url(issue)).content.decode()

    assert "Why grouped like this" in page
    assert f"<code>{issue.culprit}</code>" in page
    assert grouping.DEFAULT_CONFIG in page
    assert "fault MemManage" in page
    assert (
        '<li class="contributes"><span class="kind">function</span> <code>record_word_store' in page
    )


def test_bob_resolves_in_a_version_and_only_a_newer_one_regresses_it(client, bob, crash):
    issue = crash(version="1.0.0").issue
    client.force_login(bob)

    client.post(url(issue, "resolve/"), {"resolution": "in_version", "version": "1.0.1"})
    crash(version="0.9.0")
    assert refreshed(issue).state == "resolved"
    crash(version="1.0.2")
    page = client.get(url(issue)).content.decode()

    assert refreshed(issue).regressed
    assert "regressed" in page
    assert "marked it regressed: a trace from version 1.0.2 arrived" in page
    assert "resolved it in version 1.0.1" in page


def test_resolving_in_the_next_version_names_the_newest_version_seen(client, bob, crash):
    issue = crash(version="1.2.0").issue
    client.force_login(bob)

    client.post(url(issue, "resolve/"), {"resolution": "in_next_version"})

    assert refreshed(issue).resolved_in == "1.2.0"
    assert "in the next version (after 1.2.0)" in client.get(url(issue)).content.decode()


def test_resolving_in_a_version_without_one_says_why(client, bob, issue):
    client.force_login(bob)

    response = client.post(url(issue, "resolve/"), {"resolution": "in_version"}, follow=True)

    assert "Name the version that has the fix." in response.content.decode()
    assert refreshed(issue).state == "open"


def test_mute_unmute_resolve_and_reopen(client, bob, issue):
    client.force_login(bob)

    client.post(url(issue, "mute/"))
    assert refreshed(issue).state == "muted"
    client.post(url(issue, "unmute/"))
    assert refreshed(issue).state == "open"
    client.post(url(issue, "resolve/"), {"resolution": "now"})
    assert refreshed(issue).state == "resolved"
    client.post(url(issue, "reopen/"))
    assert refreshed(issue).state == "open"
    kinds = list(IssueActivity.objects.filter(issue=issue).values_list("kind", flat=True))
    assert kinds[:4] == ["reopened", "resolved", "unmuted", "muted"]


def test_bob_merges_an_issue_into_another_and_lands_on_it(client, bob, crash):
    target = crash().issue
    source = crash(scenario="div_zero").issue
    client.force_login(bob)

    response = client.post(url(source, "merge/"), {"into": target.pk})
    page = client.get(url(target)).content.decode()

    assert response["Location"] == url(target)
    assert refreshed(source).merged_into_id == target.pk
    assert "Merged into this issue, and still sending their traces here" in page
    assert "This issue was merged into" in client.get(url(source)).content.decode()


def test_merging_into_an_unknown_issue_or_itself_is_refused(client, bob, issue):
    client.force_login(bob)

    unknown = client.post(url(issue, "merge/"), {"into": 999999}, follow=True)
    itself = client.post(url(issue, "merge/"), {"into": issue.pk}, follow=True)

    assert "There is no issue #999999 here." in unknown.content.decode()
    assert "cannot be merged into itself" in itself.content.decode()
    assert refreshed(issue).state == "open"


def test_an_unknown_action_is_not_found(client, bob, issue):
    client.force_login(bob)

    assert client.post(url(issue, "delete/")).status_code == 404


def test_comments_show_with_their_author_and_in_the_activity(client, bob, issue):
    client.force_login(bob)

    client.post(url(issue, "comments/"), {"text": "Seen after the <b>OTA</b>."})
    page = client.get(url(issue)).content.decode()

    assert "Seen after the &lt;b&gt;OTA&lt;/b&gt;." in page
    assert "<strong>bob</strong>" in page
    assert "commented" in page


def test_victor_the_viewer_sees_no_controls_and_cannot_post(client, victor, issue):
    client.force_login(victor)

    page = client.get(url(issue)).content.decode()

    assert "Merge into issue" not in page
    assert 'name="text"' not in page
    for action in ("resolve/", "mute/", "merge/", "comments/"):
        assert client.post(url(issue, action), {"text": "x", "into": 1}).status_code == 403
    assert refreshed(issue).state == "open"


def test_charlie_can_neither_read_nor_triage(client, charlie, globex, issue):
    client.force_login(charlie)

    assert client.get(url(issue)).status_code == 404
    assert client.post(url(issue, "resolve/"), {"resolution": "now"}).status_code == 404
    assert refreshed(issue).state == "open"


def test_posts_need_the_csrf_token(bob, issue):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)

    assert client.post(url(issue, "mute/")).status_code == 403
    assert refreshed(issue).state == "open"

"""Project settings: grouping rules for members, keys and tokens for admins."""

import pytest
from django.utils import timezone

from dre.accounts.models import ApiToken, ProjectKey
from dre.accounts.selectors import api_token_get, project_key_get
from dre.crashes.models import GroupingRules

pytestmark = pytest.mark.django_db
URL = "/acme/sensors/settings/"
RULES = {"not_in_app": "file:src/storage.c", "ignore_functions": "scenario_*", "max_frames": 3}


def test_bob_saves_grouping_rules_that_new_traces_follow(client, bob, project, crash):
    client.force_login(bob)

    response = client.post(URL + "grouping/", RULES)
    trace = crash()

    assert response.status_code == 302
    rules = GroupingRules.objects.get(project=project)
    assert (rules.not_in_app, rules.max_frames) == ("file:src/storage.c", 3)
    hints = [c["hint"] for c in trace.grouping["components"]]
    assert "not in-app (rule file:src/storage.c)" in hints
    assert "ignored by rule scenario_*" in hints


def test_the_page_lists_the_default_in_app_rules_a_project_can_take_back(client, bob, project):
    client.force_login(bob)

    page = client.get(URL).content.decode()

    assert "Default rules of grouping config" in page
    assert "<code>function:xPortPendSVHandler -app</code>" not in page  # a pattern covers it
    assert '<code>function:xPort* -app</code> <span class="muted">FreeRTOS port</span>' in page
    assert "<code>+app:NAME</code>" in page


def test_bob_takes_a_default_rule_back_and_new_traces_follow(client, bob, project, crash):
    client.force_login(bob)

    client.post(URL + "grouping/", {**RULES, "not_in_app": "-app:record_*\n+app:record_commit"})
    trace = crash()

    hints = {c["value"]: c["hint"] for c in trace.grouping["components"]}
    assert hints["record_word_store"] == "not in-app (rule -app:record_*)"
    assert hints["record_commit"] == "in-app (rule +app:record_commit)"
    assert trace.title.endswith("in record_commit")


def test_a_preview_shows_which_latest_traces_would_regroup_and_saves_nothing(
    client, bob, project, crash
):
    trace = crash()
    client.force_login(bob)

    response = client.post(URL + "grouping/", {**RULES, "preview": "1"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Of the latest 1 trace, 1 would get a different fingerprint." in page
    assert f"/acme/sensors/traces/{trace.pk}/" in page
    assert not GroupingRules.objects.filter(project=project).exists()


def test_rules_that_do_not_parse_are_explained(client, bob, project):
    client.force_login(bob)

    response = client.post(URL + "grouping/", {**RULES, "not_in_app": "hal_*", "max_frames": 0})
    page = response.content.decode()

    assert "start with +app:, -app:, function: or file:" in page
    assert "Use between 1 and 50 frames." in page
    assert not GroupingRules.objects.filter(project=project).exists()


def test_victor_the_viewer_reads_the_rules_but_cannot_change_them(client, victor, project):
    GroupingRules.objects.create(project=project, ignore_functions="log_*")
    client.force_login(victor)

    page = client.get(URL).content.decode()

    assert "log_*" in page
    assert "disabled" in page
    assert "Project keys" not in page
    assert client.post(URL + "grouping/", RULES).status_code == 403


def test_alice_creates_a_project_key_shown_once_that_devices_can_use(client, alice, project):
    client.force_login(alice)

    response = client.post(URL + "keys/", {"name": "production"})
    secret = response.context["new_secret"]

    assert secret in response.content.decode()
    assert project_key_get(secret).project == project
    assert secret not in client.get(URL).content.decode()


def test_alice_revokes_a_key(client, alice, project, project_key):
    key = ProjectKey.objects.get(project=project)
    client.force_login(alice)

    client.post(URL + f"keys/{key.pk}/revoke/")

    assert project_key_get(project_key) is None
    assert "revoked" in client.get(URL).content.decode()


def test_alice_creates_and_revokes_an_org_token(client, alice, acme, project):
    client.force_login(alice)

    secret = client.post(URL + "tokens/", {"name": "ci"}).context["new_secret"]
    token = api_token_get(secret)
    client.post(URL + f"tokens/{token.pk}/revoke/")

    assert secret.startswith("oat_")
    assert token.organization == acme
    assert api_token_get(secret) is None


def test_each_active_secret_has_a_revoke_button_and_a_revoked_one_its_date(
    client, alice, project, project_key
):
    key = ProjectKey.objects.get(project=project)
    client.force_login(alice)
    token = api_token_get(client.post(URL + "tokens/", {"name": "ci"}).context["new_secret"])
    client.post(URL + f"keys/{key.pk}/revoke/")

    page = client.get(URL).content.decode()

    assert f'action="{URL}tokens/{token.pk}/revoke/"' in page
    assert f'action="{URL}keys/{key.pk}/revoke/"' not in page
    assert f"revoked {timezone.localdate():%Y-%m-%d}" in page
    assert "<td>never</td>" in page


def test_bob_the_member_manages_no_secrets(client, bob, project, project_key):
    key = ProjectKey.objects.get(project=project)
    client.force_login(bob)

    assert "Project keys" not in client.get(URL).content.decode()
    assert client.post(URL + "keys/", {"name": "x"}).status_code == 403
    assert client.post(URL + f"keys/{key.pk}/revoke/").status_code == 403
    assert client.post(URL + "tokens/", {"name": "x"}).status_code == 403
    assert ProjectKey.objects.count() == 1
    assert ApiToken.objects.count() == 0


def test_charlie_cannot_touch_acmes_keys_even_as_admin_of_his_own(client, charlie, globex, project):
    from dre.accounts.services import project_key_create

    key, _ = project_key_create(project=project)
    client.force_login(charlie)

    assert client.get(URL).status_code == 404
    assert client.post(URL + f"keys/{key.pk}/revoke/").status_code == 404
    assert ProjectKey.objects.get(pk=key.pk).is_active


def test_a_key_of_another_project_cannot_be_revoked_from_this_one(
    client, alice, acme, project, other_project
):
    from dre.accounts.services import project_key_create

    foreign, _ = project_key_create(project=other_project)
    client.force_login(alice)

    assert client.post(URL + f"keys/{foreign.pk}/revoke/").status_code == 404
    assert ProjectKey.objects.get(pk=foreign.pk).is_active

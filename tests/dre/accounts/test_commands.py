"""The administration commands: secrets are printed once and stored as digests."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dre.accounts import secrets
from dre.accounts.models import ApiToken, Membership, Organization, Project, ProjectKey
from dre.accounts.selectors import api_token_get, project_key_get

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_it_creates_an_organization_and_a_project_with_a_default_cohort():
    run("orgs", "create", "acme", "--name", "Acme")
    run("projects", "create", "acme", "sensors")

    project = Project.objects.get(organization__slug="acme", slug="sensors")
    assert project.cohorts.get().slug == "default"
    assert "acme/sensors" in run("projects", "list")


def test_creating_an_existing_organization_changes_nothing():
    run("orgs", "create", "acme")

    assert "already exists" in run("orgs", "create", "acme")
    assert Organization.objects.count() == 1


def test_a_project_key_is_printed_once_and_stored_as_a_digest(project):
    key = run("keys", "create", "acme/sensors", "--name", "production")

    stored = ProjectKey.objects.get(name="production")
    assert len(key) == 32
    assert stored.digest == secrets.digest(key)
    assert key not in stored.digest
    assert project_key_get(key) == stored


def test_a_revoked_key_no_longer_authenticates(project):
    key = run("keys", "create", "acme/sensors")
    run("keys", "revoke", "acme/sensors", key[:8])

    assert project_key_get(key) is None
    assert "revoked" in run("keys", "list", "acme/sensors")


def test_an_org_token_has_the_oat_prefix_memfault_cli_expects(acme):
    token = run("tokens", "create", "acme", "--name", "ci")

    assert token.startswith("oat_")
    assert api_token_get(token).is_org_token


def test_a_user_token_belongs_to_its_user(acme, alice):
    token = run("tokens", "create", "acme", "--user", "alice")

    assert token.startswith("uat_")
    assert api_token_get(token).user == alice


def test_a_revoked_token_no_longer_authenticates(acme):
    token = run("tokens", "create", "acme")
    run("tokens", "revoke", "acme", token[:8])

    assert api_token_get(token) is None
    assert ApiToken.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    ("command", "owner", "kind"), [("keys", "acme/sensors", "key"), ("tokens", "acme", "token")]
)
def test_revoking_a_prefix_no_active_secret_has_says_so(project, command, owner, kind):
    secret = run(command, "create", owner)
    run(command, "revoke", owner, secret[:8])
    errors = io.StringIO()

    call_command(command, "revoke", owner, secret[:8], stdout=io.StringIO(), stderr=errors)

    assert errors.getvalue().strip() == f"no active {kind} starting with {secret[:8]}"


def test_members_get_roles(acme, charlie):
    run("members", "add", "acme", "charlie", "--role", "viewer")

    assert Membership.objects.get(user=charlie).role == "viewer"
    assert "charlie  viewer" in run("members", "list", "acme")


def test_unknown_names_are_clear_errors(acme):
    with pytest.raises(CommandError, match="no project 'acme/nope'"):
        run("keys", "create", "acme/nope")
    with pytest.raises(CommandError, match="not of the form org/project"):
        run("keys", "list", "acme")
    with pytest.raises(CommandError, match="no user 'dave'"):
        run("members", "add", "acme", "dave")

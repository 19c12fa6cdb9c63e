"""API tokens: a user's token works in the organization it was created for, and only
while its user is active; that organization's admins see and revoke it."""

import pytest

from dre.accounts.models import Role
from dre.accounts.selectors import api_token_get
from dre.accounts.services import api_token_create, membership_set, project_create
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_in_globex(bob, globex):
    membership_set(user=bob, organization=globex, role=Role.MEMBER)
    return project_create(organization=globex, slug="turbines")


def test_a_deactivated_users_token_no_longer_reads(client, project, bob, acme):
    secret = api_token_create(organization=acme, user=bob)[1]
    bob.is_active = False
    bob.save()

    response = client.get(f"/api/v1/projects/{project.pk}/devices/", headers=bearer(secret))

    assert response.status_code == 401
    assert api_token_get(secret) is None


def test_a_deactivated_users_token_no_longer_uploads(client, project, bob, acme):
    secret = api_token_create(organization=acme, user=bob)[1]
    bob.is_active = False
    bob.save()

    response = client.get("/api/v0/organizations/acme/projects/sensors", headers=bearer(secret))

    assert response.status_code == 403


def test_a_users_token_reads_only_the_organization_it_was_made_for(
    client, project, bob, acme, bob_in_globex
):
    secret = api_token_create(organization=acme, user=bob)[1]

    listed = client.get("/api/v1/projects/", headers=bearer(secret)).json()["results"]
    other = client.get(f"/api/v1/projects/{bob_in_globex.pk}/devices/", headers=bearer(secret))

    assert [p["slug"] for p in listed] == ["sensors"]
    assert other.status_code == 404


def test_a_users_token_uploads_only_to_the_organization_it_was_made_for(
    client, project, bob, acme, bob_in_globex
):
    secret = api_token_create(organization=acme, user=bob)[1]

    ours = client.get("/api/v0/organizations/acme/projects/sensors", headers=bearer(secret))
    theirs = client.get("/api/v0/organizations/globex/projects/turbines", headers=bearer(secret))

    assert (ours.status_code, theirs.status_code) == (200, 403)


def test_a_superusers_token_is_bound_to_its_organization_too(client, project, make_user, globex):
    root = make_user("root", is_superuser=True, is_staff=True)
    secret = api_token_create(organization=globex, user=root)[1]

    response = client.get(f"/api/v1/projects/{project.pk}/devices/", headers=bearer(secret))

    assert response.status_code == 404


def test_an_admin_sees_and_revokes_a_members_token(client, alice, bob, acme, project):
    token, secret = api_token_create(organization=acme, user=bob, name="bob's laptop")
    client.force_login(alice)

    page = client.get("/acme/sensors/settings/")
    client.post(f"/acme/sensors/settings/tokens/{token.pk}/revoke/")

    assert token in page.context["tokens"]
    assert "of bob" in page.content.decode()
    assert api_token_get(secret) is None


def test_an_admin_cannot_revoke_a_token_of_another_organization(
    client, alice, bob, acme, project, globex
):
    token, secret = api_token_create(organization=globex, user=bob)
    client.force_login(alice)

    response = client.post(f"/acme/sensors/settings/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert api_token_get(secret) is not None

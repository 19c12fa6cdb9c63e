"""Writes for organizations, projects and their secrets."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dre.accounts import secrets
from dre.accounts.models import ApiToken, Membership, Organization, Project, ProjectKey, Role


def organization_create(*, slug: str, name: str = "") -> Organization:
    return Organization.objects.create(slug=slug, name=name or slug)


@transaction.atomic
def project_create(*, organization: Organization, slug: str, name: str = "") -> Project:
    from dre.fleet.services import cohort_get_default

    project = Project.objects.create(organization=organization, slug=slug, name=name or slug)
    cohort_get_default(project)
    return project


def membership_set(*, user, organization: Organization, role: Role = Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership


def project_key_create(*, project: Project, name: str = "") -> tuple[ProjectKey, str]:
    """Create a project key; the clear secret is returned once and never stored."""
    secret = secrets.new_project_key()
    key = ProjectKey.objects.create(
        project=project,
        name=name,
        prefix=secrets.visible_prefix(secret),
        digest=secrets.digest(secret),
    )
    return key, secret


def api_token_create(
    *, organization: Organization, user=None, name: str = ""
) -> tuple[ApiToken, str]:
    """Create an org token (no user) or a user token; the secret is returned once."""
    prefix = secrets.ORG_TOKEN_PREFIX if user is None else secrets.USER_TOKEN_PREFIX
    secret = secrets.new_api_token(prefix)
    token = ApiToken.objects.create(
        organization=organization,
        user=user,
        name=name,
        prefix=secrets.visible_prefix(secret),
        digest=secrets.digest(secret),
    )
    return token, secret


def secret_revoke(secret_object: ProjectKey | ApiToken) -> None:
    type(secret_object).objects.filter(pk=secret_object.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )

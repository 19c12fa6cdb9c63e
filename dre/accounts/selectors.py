"""Reads: who may see which project, and which project a secret belongs to."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from dre.accounts import secrets
from dre.accounts.models import ApiToken, Membership, Project, ProjectKey, Role

# Writing last_used on every device request would turn each upload into a
# write to a hot row; once a minute is precise enough to spot an unused key.
LAST_USED_RESOLUTION = timedelta(minutes=1)

ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


def project_key_get(secret: str | None) -> ProjectKey | None:
    if not secret:
        return None
    key = (
        ProjectKey.objects.active()
        .select_related("project__organization")
        .filter(digest=secrets.digest(secret.strip()))
        .first()
    )
    if key is not None:
        _touch(key)
    return key


def api_token_get(secret: str | None) -> ApiToken | None:
    if not secret:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("organization", "user")
        .filter(digest=secrets.digest(secret.strip()))
        # A deactivated user's tokens stop working with their password.
        .filter(Q(user__isnull=True) | Q(user__is_active=True))
        .first()
    )
    if token is not None:
        _touch(token)
    return token


def _touch(secret_object: ProjectKey | ApiToken) -> None:
    now = timezone.now()
    if secret_object.last_used and now - secret_object.last_used < LAST_USED_RESOLUTION:
        return
    type(secret_object).objects.filter(pk=secret_object.pk).update(last_used=now)


def projects_for(principal) -> QuerySet[Project]:
    """Projects a user, or an org token acting as one, may read.

    A token, a user's too, works only in the organization it was created for: that
    organization's admins are the ones who see and revoke it.
    """
    projects = Project.objects.select_related("organization")
    token = getattr(principal, "api_token", None)
    if token is not None:
        projects = projects.filter(organization=token.organization_id)
    if token is not None and token.is_org_token:
        return projects
    if not getattr(principal, "is_authenticated", False):
        return projects.none()
    if principal.is_superuser:
        return projects.all()
    return projects.filter(organization__memberships__user=principal)


def role_in(principal, project: Project) -> Role | None:
    """The principal's role in the project's organization, None for no access."""
    token = getattr(principal, "api_token", None)
    if token is not None and token.organization_id != project.organization_id:
        return None  # see projects_for
    if token is not None and token.is_org_token:
        # Org tokens are for CI: they upload and read, but never manage secrets.
        return Role.MEMBER
    if not getattr(principal, "is_authenticated", False):
        return None
    if principal.is_superuser:
        return Role.ADMIN
    membership = Membership.objects.filter(
        user=principal, organization=project.organization_id
    ).first()
    return Role(membership.role) if membership else None


def has_role(principal, project: Project, needed: Role) -> bool:
    role = role_in(principal, project)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[needed]

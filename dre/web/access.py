"""Who may do what on the pages: every view finds its project through `projects_for`
(a project the user may not see answers 404, like one that does not exist), then
checks the role the action needs (viewer reads, member triages, admin manages
secrets) and answers 403 when it is missing."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from dre.accounts.models import Project, Role
from dre.accounts.selectors import ROLE_RANK, projects_for, role_in


@dataclass(frozen=True)
class Access:
    project: Project
    role: Role

    @property
    def can_triage(self) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[Role.MEMBER]

    @property
    def can_admin(self) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[Role.ADMIN]


def project_access(request, org: str, project: str, needs: Role = Role.VIEWER) -> Access:
    """The URL's project and the user's role in it; 404 if unseen, 403 if the role is short."""
    found = get_object_or_404(projects_for(request.user), organization__slug=org, slug=project)
    role = role_in(request.user, found)
    if role is None:  # listed by projects_for, so only a race with a membership removal
        raise PermissionDenied("no role in this organization")
    if ROLE_RANK[role] < ROLE_RANK[needs]:
        raise PermissionDenied(f"this needs the {needs.label.lower()} role")
    request.access = Access(found, role)
    return request.access

"""A project's settings: grouping rules (members edit, with a dry run over the latest
traces), project keys and the organization's API tokens (admins; a new secret is
shown once, on the answer to the request that created it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import ApiToken, ProjectKey, Role
from dre.accounts.services import api_token_create, project_key_create, secret_revoke
from dre.crashes import grouping, selectors
from dre.crashes.models import GroupingRules
from dre.web.access import project_access
from dre.web.forms import GroupingRulesForm, SecretForm
from dre.web.views.common import render_page


def _page(request, access, **context):
    rules = GroupingRules.objects.filter(project=access.project).first()
    form = context.setdefault("rules_form", GroupingRulesForm(instance=rules))
    config = grouping.CONFIGS[grouping.DEFAULT_CONFIG]
    context.update(grouping_config=config.id, default_rules=config.default_rules)
    if not access.can_triage:
        for field in form.fields.values():
            field.disabled = True
    if access.can_admin:
        context["keys"] = ProjectKey.objects.filter(project=access.project).order_by("-created")
        # Members' own tokens too: they work in this organization only, so its
        # admins are the ones who must be able to see and revoke them.
        context["tokens"] = (
            ApiToken.objects.filter(organization=access.project.organization_id)
            .select_related("user")
            .order_by("-created")
        )
        context.setdefault("secret_form", SecretForm())
    return render_page(request, "web/project_settings.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def project_settings(request, org, project):
    return _page(request, project_access(request, org, project))


@login_required
@require_POST
def grouping_rules(request, org, project):
    """Save the rules, or with `preview` show what they would change and save nothing."""
    access = project_access(request, org, project, needs=Role.MEMBER)
    existing = GroupingRules.objects.filter(project=access.project).first()
    form = GroupingRulesForm(request.POST, instance=existing)
    if not form.is_valid():
        return _page(request, access, rules_form=form)
    if "preview" in request.POST:
        preview = selectors.grouping_rules_preview(access.project, form.rules())
        return _page(request, access, rules_form=form, preview=preview)
    rules = form.save(commit=False)
    rules.project, rules.updated = access.project, timezone.now()
    rules.save()
    messages.success(request, "Grouping rules saved. They apply to traces that arrive from now on.")
    return redirect("project-settings", org=org, project=project)


def _secret_name(request) -> str:
    """The name typed for a new key or token: none when the form does not validate."""
    form = SecretForm(request.POST)
    return form.cleaned_data["name"] if form.is_valid() else ""


@login_required
@require_POST
def key_create(request, org, project):
    access = project_access(request, org, project, needs=Role.ADMIN)
    key, secret = project_key_create(project=access.project, name=_secret_name(request))
    return _page(request, access, new_secret=secret, new_secret_kind="project key", new_name=key)


@login_required
@require_POST
def key_revoke(request, org, project, key_id):
    access = project_access(request, org, project, needs=Role.ADMIN)
    secret_revoke(get_object_or_404(ProjectKey, project=access.project, pk=key_id))
    messages.success(request, "Project key revoked.")
    return redirect("project-settings", org=org, project=project)


@login_required
@require_POST
def token_create(request, org, project):
    access = project_access(request, org, project, needs=Role.ADMIN)
    organization = access.project.organization
    token, secret = api_token_create(organization=organization, name=_secret_name(request))
    return _page(request, access, new_secret=secret, new_secret_kind="API token", new_name=token)


@login_required
@require_POST
def token_revoke(request, org, project, token_id):
    access = project_access(request, org, project, needs=Role.ADMIN)
    token = get_object_or_404(ApiToken, organization=access.project.organization_id, pk=token_id)
    secret_revoke(token)
    messages.success(request, "API token revoked.")
    return redirect("project-settings", org=org, project=project)

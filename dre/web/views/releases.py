"""Releases pages: the list, and a release with its payloads and deployments per cohort."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.fleet.selectors import cohort_find, cohort_list, hardware_versions_of
from dre.releases import rollouts, selectors, services
from dre.releases.models import Deployment
from dre.web.access import project_access
from dre.web.views.common import render_page


class DeployForm(forms.Form):
    cohort = forms.SlugField()
    rollout_percent = forms.IntegerField(min_value=1, max_value=100, initial=100)


class DeploymentActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("pause", "resume", "override", "widen", "pull")]
    )
    rollout_percent = forms.IntegerField(min_value=1, max_value=100, required=False)
    reason = forms.CharField(required=False, max_length=2000)


@login_required
@require_http_methods(["GET", "HEAD"])
def release_list(request, org, project):
    access = project_access(request, org, project)
    releases = selectors.release_list(access.project)
    offered = selectors.release_offer_counts(access.project)
    live = selectors.deployment_list(access.project, status__in=services.LIVE)
    rows = [
        {
            "release": release,
            "offered": offered.get(release.pk, {}).get("offered", 0),
            "deployments": [d for d in live if d.release_id == release.pk],
        }
        for release in releases
    ]
    return render_page(request, "web/release_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "HEAD"])
def release_detail(request, org, project, release_id):
    access = project_access(request, org, project)
    release = _release(access.project, release_id)
    rollouts = selectors.release_rollouts(release)
    safety = [_safety(r.deployment) for r in rollouts if r.deployment.status in services.LIVE]
    context = {
        "release": release,
        "artifacts": release.artifacts.select_related("hardware_version").order_by("created"),
        "rollouts": rollouts,
        "safety": safety,
        "cohorts": cohort_list(access.project),
        "deploy_form": DeployForm(),
        "charts": {
            "adoption": {
                str(r.deployment.pk): selectors.release_adoption(r.deployment) for r in rollouts
            },
            "safety": {str(item["deployment"].pk): item["curves"] for item in safety},
        },
    }
    return render_page(request, "web/release_detail.html", context)


def _safety(deployment: Deployment) -> dict:
    """The rule's decision for one deployment, its numbers, and both releases' daily
    curves with their intervals, for the page and its charts."""
    decision, evidence = rollouts.rollout_decision(deployment)
    days = sorted(evidence.new_days.keys() | evidence.old_days.keys())
    rows = [
        {"day": day, "new": evidence.new_days.get(day), "old": evidence.old_days.get(day)}
        for day in days
    ]
    curves = [
        {
            "day": day.isoformat(),
            "new": _curve_point(evidence.new_days.get(day)),
            "old": _curve_point(evidence.old_days.get(day)),
        }
        for day in days
    ]
    return {"deployment": deployment, "decision": decision, "evidence": evidence,
            "rows": rows, "curves": curves}  # fmt: skip


def _curve_point(stability) -> dict | None:
    if stability is None:
        return None
    return {
        "crash_free_hours": stability.crash_free_hours.as_dict(),
        "crash_free_devices": stability.crash_free_devices.as_dict(),
    }


def _release(project, release_id):
    release = selectors.release_find(project, release_id)
    if release is None:
        raise Http404("no such release")
    return release


@login_required
@require_POST
def release_deploy(request, org, project, release_id):
    access = project_access(request, org, project, needs=Role.MEMBER)
    release = _release(access.project, release_id)
    form = DeployForm(request.POST)
    cohort = cohort_find(access.project, form.data.get("cohort", ""))
    if not form.is_valid() or cohort is None:
        messages.error(request, "Choose a cohort and a percentage from 1 to 100.")
    else:
        _apply(request, services.deployment_activate, release, cohort,
               percent=form.cleaned_data["rollout_percent"], actor=request.user)  # fmt: skip
    return redirect("release-detail", org, project, release.pk)


@login_required
@require_POST
def deployment_action(request, org, project, deployment_id):
    access = project_access(request, org, project, needs=Role.MEMBER)
    found = selectors.deployment_list(access.project, pk=deployment_id)
    if not found:
        raise Http404("no such deployment")
    deployment: Deployment = found[0]
    form = DeploymentActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That action is not possible.")
    else:
        _act(request, deployment, form.cleaned_data)
    return redirect("release-detail", org, project, deployment.release_id)


def _act(request, deployment: Deployment, data: dict) -> None:
    action, reason = data["action"], data["reason"]
    if action == "widen":
        if data["rollout_percent"] is None:
            messages.error(request, "Widening needs the new percentage.")
            return
        _apply(request, services.deployment_widen, deployment, data["rollout_percent"],
               actor=request.user, reason=reason)  # fmt: skip
        return
    if action == "override":
        _apply(request, services.deployment_resume, deployment, actor=request.user,
               reason=reason, override=True)  # fmt: skip
        return
    change = {
        "pause": services.deployment_pause,
        "resume": services.deployment_resume,
        "pull": services.deployment_pull,
    }[action]
    _apply(request, change, deployment, actor=request.user, reason=reason)


def _apply(request, change, *args, **kwargs) -> None:
    try:
        deployment = change(*args, **kwargs)
    except (services.ReleaseRejected, services.ReleaseConflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{deployment.cohort.slug}: {deployment.status}, {deployment.rollout_percent} %",
        )


@login_required
@require_http_methods(["GET", "HEAD"])
def version_matrix(request, org, project):
    """For each current version and cohort: which release its devices get next."""
    access = project_access(request, org, project)
    boards = hardware_versions_of(access.project)
    chosen = next((b for b in boards if b.name == request.GET.get("hardware")), None)
    matrix = selectors.version_matrix(access.project, chosen)
    rows = [
        {
            "software_type": key[0],
            "version": key[1],
            "cells": [cells.get(cohort.pk) for cohort in matrix["cohorts"]],
        }
        for key, cells in matrix["rows"]
    ]
    context = {"cohorts": matrix["cohorts"], "rows": rows, "boards": boards, "hardware": chosen}
    return render_page(request, "web/version_matrix.html", context)

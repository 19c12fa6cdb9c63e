"""Cohort pages: the cohorts, and one cohort with its devices, its rollout rule, and forms
to move devices in by serial list or by attributes. Changes go through
dre.releases.services, so whatever caches the release choice hears of them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.fleet.selectors import cohort_device_counts, cohort_devices, cohort_find, cohort_list
from dre.fleet.services import InvalidDeviceSerial, UnknownDevices
from dre.releases import rollouts, selectors, services
from dre.releases.models import CohortPolicy
from dre.web.access import project_access
from dre.web.views.common import render_page


class CohortForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200, required=False)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = CohortPolicy
        fields = services.POLICY_FIELDS


class MoveForm(forms.Form):
    serials = forms.CharField(required=False, widget=forms.Textarea, max_length=1_000_000)
    hardware_version = forms.CharField(required=False, max_length=128)
    software_type = forms.CharField(required=False, max_length=128)
    software_version = forms.CharField(required=False, max_length=128)
    from_cohort = forms.SlugField(required=False)

    def serial_list(self) -> list[str]:
        return [s for s in self.cleaned_data["serials"].replace(",", " ").split() if s]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cohort_list_page(request, org, project):
    needs = Role.MEMBER if request.method == "POST" else Role.VIEWER
    access = project_access(request, org, project, needs=needs)
    if request.method == "POST":
        form = CohortForm(request.POST)
        if form.is_valid():
            cohort = services.cohort_create(access.project, form.cleaned_data["slug"],
                                            form.cleaned_data["name"])  # fmt: skip
            return redirect("cohort-detail", org, project, cohort.slug)
        messages.error(request, "A cohort needs a slug: letters, digits, - and _.")
    counts = cohort_device_counts(access.project)
    live = selectors.deployment_list(access.project, status__in=services.LIVE)
    rows = [
        {
            "cohort": c,
            "devices": counts.get(c.pk, 0),
            "rule": rollouts.cohort_rule(c.pk),
            "deployments": [d for d in live if d.cohort_id == c.pk],
        }
        for c in cohort_list(access.project)
    ]
    return render_page(request, "web/cohort_list.html", {"rows": rows, "form": CohortForm()})


def _cohort(project, slug):
    cohort = cohort_find(project, slug)
    if cohort is None:
        raise Http404("no such cohort")
    return cohort


@login_required
@require_http_methods(["GET", "HEAD"])
def cohort_detail(request, org, project, cohort_slug):
    access = project_access(request, org, project)
    cohort = _cohort(access.project, cohort_slug)
    policy = CohortPolicy.objects.filter(cohort=cohort).first() or CohortPolicy(cohort=cohort)
    context = {
        "cohort": cohort,
        "devices": cohort_devices(cohort),
        "device_count": cohort_device_counts(access.project).get(cohort.pk, 0),
        "deployments": selectors.deployment_list(
            access.project, cohort=cohort, status__in=services.LIVE
        ),
        "policy_form": PolicyForm(instance=policy),
        "move_form": MoveForm(),
        "cohorts": cohort_list(access.project),
    }
    return render_page(request, "web/cohort_detail.html", context)


@login_required
@require_POST
def cohort_policy(request, org, project, cohort_slug):
    access = project_access(request, org, project, needs=Role.MEMBER)
    cohort = _cohort(access.project, cohort_slug)
    form = PolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The rule was not saved: {form.errors.as_text()}")
    else:
        try:
            services.cohort_policy_set(cohort, **form.cleaned_data)
        except services.ReleaseRejected as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Saved the cohort's policy and rollout rule.")
    return redirect("cohort-detail", org, project, cohort.slug)


@login_required
@require_POST
def cohort_move(request, org, project, cohort_slug):
    access = project_access(request, org, project, needs=Role.MEMBER)
    cohort = _cohort(access.project, cohort_slug)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Those are not serials or attributes to match devices by.")
    else:
        _move(request, access.project, cohort, form)
    return redirect("cohort-detail", org, project, cohort.slug)


def _move(request, project, cohort, form: MoveForm) -> None:
    data = form.cleaned_data
    try:
        if form.serial_list():
            moved = services.cohort_devices_move(project, form.serial_list(), cohort)
        else:
            moved = services.cohort_devices_move_matching(
                project, cohort, **_filters(project, data)
            )
    except (UnknownDevices, InvalidDeviceSerial, ValueError) as exc:
        messages.error(request, str(exc))
        return
    messages.success(request, f"Moved {moved} device{'s' if moved != 1 else ''} into {cohort}.")


def _filters(project, data: dict) -> dict:
    if bool(data["software_type"]) != bool(data["software_version"]):
        raise ValueError("a software version needs its software type, and the other way round")
    filters = {}
    if data["hardware_version"]:
        filters["hardware_version"] = data["hardware_version"]
    if data["software_type"]:
        filters["software_version"] = (data["software_type"], data["software_version"])
    if data["from_cohort"]:
        source = cohort_find(project, data["from_cohort"])
        if source is None:
            raise ValueError(f"no cohort {data['from_cohort']!r}")
        filters["from_cohort"] = source
    return filters

"""Forms of the pages. They validate input; the workflow services do the work."""

from __future__ import annotations

from django import forms

from dre.crashes import grouping
from dre.crashes.models import GroupingRules, Issue
from dre.crashes.selectors import ISSUE_SORTS, ISSUE_STATES, IssueFilters, device_by_serial

Resolution = Issue.Resolution


class IssueFilterForm(forms.Form):
    """The issue list's query string. Unknown or malformed values fall back to defaults."""

    state = forms.ChoiceField(choices=[(s, s) for s in ISSUE_STATES], required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in ISSUE_SORTS], required=False)
    version = forms.IntegerField(required=False, min_value=1)
    hardware = forms.IntegerField(required=False, min_value=1)
    cohort = forms.IntegerField(required=False, min_value=1)
    device = forms.CharField(required=False, max_length=128)
    q = forms.CharField(required=False, max_length=200)
    kind = forms.ChoiceField(choices=[("", "any"), *Issue.Kind.choices], required=False)

    def filters(self, project) -> IssueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        device_id = None
        if data.get("device"):
            device = device_by_serial(project, data["device"])
            device_id = device.pk if device else -1  # an unknown serial matches nothing
        return IssueFilters(
            state=data.get("state") or "open",
            software_version=data.get("version"),
            hardware_version=data.get("hardware"),
            device=device_id,
            cohort=data.get("cohort"),
            text=data.get("q") or "",
            sort=data.get("sort") or "last_seen",
            kind=data.get("kind") or "",
        )


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("resolve", "Resolve"), ("mute", "Mute"), ("reopen", "Reopen"), ("merge", "Merge")]
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=Resolution.choices, initial=Resolution.NOW)
    version = forms.CharField(required=False, max_length=128)

    def clean(self):
        data = super().clean()
        if data.get("resolution") == Resolution.IN_VERSION and not data.get("version", "").strip():
            self.add_error("version", "Name the version that has the fix.")
        return data


class MergeForm(forms.Form):
    into = forms.IntegerField(min_value=1, label="Merge into issue #")


class CommentForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class GroupingRulesForm(forms.ModelForm):
    class Meta:
        model = GroupingRules
        fields = ["not_in_app", "ignore_functions", "max_frames"]
        widgets = {
            "not_in_app": forms.Textarea(attrs={"rows": 4}),
            "ignore_functions": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_not_in_app(self):
        text = self.cleaned_data["not_in_app"]
        try:
            grouping.Rules.parse(text)
        except grouping.RuleError as exc:
            raise forms.ValidationError(str(exc)) from None
        return text

    def clean_max_frames(self):
        value = self.cleaned_data["max_frames"]
        if not 1 <= value <= 50:
            raise forms.ValidationError("Use between 1 and 50 frames.")
        return value

    def rules(self) -> grouping.Rules:
        data = self.cleaned_data
        return grouping.Rules.parse(
            data["not_in_app"], data["ignore_functions"], data["max_frames"]
        )


class SecretForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)

"""Forms of the alert pages: rules and webhooks, limited to the page's project."""

from __future__ import annotations

from django import forms

from dre.alerts.models import AlertRule, Webhook
from dre.events import EventType
from dre.fleet.models import Cohort, SoftwareType

RULE_EVENTS = [
    (EventType.ISSUE_CREATED, "An issue is created"),
    (EventType.ISSUE_REGRESSED, "An issue regresses"),
    (EventType.ISSUE_REOPENED, "An issue is reopened"),
    (EventType.ISSUE_RESOLVED, "An issue is resolved"),
    (EventType.ISSUE_COMMENTED, "Someone comments on an issue"),
    (EventType.ISSUE_OCCURRED, "A trace arrives (once per issue and hour)"),
    (EventType.DEVICE_ALERT_TRIGGERED, "A device threshold alert opens"),
    (EventType.DEVICE_ALERT_RESOLVED, "A device threshold alert resolves"),
    (EventType.FLEET_ALERT_TRIGGERED, "A fleet threshold alert opens"),
    (EventType.FLEET_ALERT_RESOLVED, "A fleet threshold alert resolves"),
    (EventType.ROLLOUT_HALTED, "A rollout is halted"),
    (EventType.ROLLOUT_RESUMED, "A rollout is resumed"),
    (EventType.ROLLOUT_WIDENED, "A rollout is widened"),
]


class AlertRuleForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=RULE_EVENTS, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = AlertRule
        fields = ["name", "events", "min_devices_last_hour", "software_types", "cohorts"]
        fields += ["webhooks", "email"]
        widgets = {
            "software_types": forms.CheckboxSelectMultiple,
            "cohorts": forms.CheckboxSelectMultiple,
            "webhooks": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["software_types"].queryset = SoftwareType.objects.filter(project=project)
        self.fields["cohorts"].queryset = Cohort.objects.filter(project=project)
        self.fields["webhooks"].queryset = Webhook.objects.filter(project=project)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ["name", "url", "kind"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("a webhook URL starts with https:// or http://")
        return url

"""The form of the metric monitor page, limited to the page's project."""

from __future__ import annotations

from django import forms

from dre.fleet.models import Cohort, SoftwareVersion
from dre.monitors.models import Monitor


class MonitorForm(forms.ModelForm):
    class Meta:
        model = Monitor
        fields = ["name", "kind", "metric_key", "aggregate", "operator", "threshold", "cohort",
                  "software_version", "window_seconds", "every_seconds", "min_devices",
                  "start_delay_seconds", "end_delay_seconds"]  # fmt: skip
        labels = {
            "window_seconds": "Window (seconds, fleet)",
            "every_seconds": "Evaluate every (seconds, fleet)",
            "min_devices": "At least this many reporting devices (fleet)",
            "start_delay_seconds": "Start delay (seconds, device)",
            "end_delay_seconds": "End delay (seconds, device)",
        }

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.filter(project=project)
        self.fields["software_version"].queryset = SoftwareVersion.objects.filter(
            software_type__project=project
        ).select_related("software_type")

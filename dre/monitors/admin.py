from django.contrib import admin

from dre.monitors.models import Incident, Monitor


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "metric_key", "operator", "threshold", "enabled"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["pk", "monitor", "device", "state", "triggered", "resolved"]

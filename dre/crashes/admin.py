from django.contrib import admin

from dre.crashes.models import (
    Coredump,
    GroupingRules,
    Issue,
    IssueActivity,
    IssueComment,
    IssueDay,
    IssueDevice,
    IssueFingerprint,
    IssueHardware,
    IssueVersion,
    Trace,
)


@admin.register(Coredump)
class CoredumpAdmin(admin.ModelAdmin):
    list_display = ["pk", "project", "device", "state", "format", "received"]
    list_filter = ["state", "source", "project"]
    raw_id_fields = ["device", "symbol_file"]


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin):
    list_display = ["pk", "title", "issue", "created"]
    raw_id_fields = ["coredump", "issue"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "state", "trace_count", "device_count", "last_seen"]
    list_filter = ["state", "project"]


admin.site.register(
    [
        IssueFingerprint,
        IssueDevice,
        IssueVersion,
        IssueHardware,
        IssueDay,
        IssueComment,
        IssueActivity,
        GroupingRules,
    ]
)

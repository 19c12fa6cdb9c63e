from django.contrib.auth import views as auth_views
from django.urls import path

from dre.web.views import (
    alerts,
    compare,
    devices,
    failures,
    health,
    home,
    inspect,
    issue,
    issues,
    project_settings,
    releases,
    traces,
)

P = "<slug:org>/<slug:project>"
T = f"{P}/traces/<int:trace_id>"
W = f"{P}/alerts/webhooks/<int:webhook_id>"
F = f"{T}/threads/<int:thread>/frames/<int:frame>"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    path(f"{P}/issues/", issues.issue_list, name="issue-list"),
    path(f"{P}/issues/bulk/", issues.issues_bulk_action, name="issues-bulk"),
    path(f"{P}/issues/<int:issue_id>/", issue.issue_detail, name="issue-detail"),
    path(f"{P}/issues/<int:issue_id>/comments/", issue.issue_comment, name="issue-comment"),
    path(f"{P}/issues/<int:issue_id>/compare/", compare.issue_compare, name="issue-compare"),
    path(f"{P}/issues/<int:issue_id>/<slug:action>/", issue.issue_action, name="issue-action"),
    path(f"{P}/health/", health.health_overview, name="health-overview"),
    path(f"{P}/devices/<str:serial>/", devices.device_detail, name="device-detail"),
    path(
        f"{P}/recordings/<int:recording_id>/download",
        devices.recording_download,
        name="recording-download",
    ),
    path(f"{P}/traces/", traces.trace_list, name="trace-list"),
    path(f"{T}/", traces.trace_detail, name="trace-detail"),
    path(f"{T}/coredump.bin", traces.trace_coredump, name="trace-coredump"),
    path(f"{T}/core.elf", traces.trace_elf_core, name="trace-elf-core"),
    path(f"{F}/variables.json", inspect.frame_variables, name="frame-variables"),
    path(f"{F}/registers.json", inspect.frame_registers, name="frame-registers"),
    path(f"{F}/disassembly.json", inspect.frame_disassembly, name="frame-disassembly"),
    path(f"{T}/variables/children.json", inspect.variable_children, name="variable-children"),
    path(f"{T}/memory.json", inspect.memory, name="trace-memory"),
    path(f"{T}/regions.json", inspect.memory_regions, name="trace-regions"),
    path(f"{T}/globals.json", inspect.globals_search, name="trace-globals"),
    path(f"{P}/failures/", failures.failure_list, name="failure-list"),
    path(
        f"{P}/failures/<slug:kind>/<int:pk>/reprocess/",
        failures.failure_reprocess,
        name="failure-reprocess",
    ),
    path(f"{P}/releases/", releases.release_list, name="release-list"),
    path(f"{P}/releases/<int:release_id>/", releases.release_detail, name="release-detail"),
    path(f"{P}/releases/<int:release_id>/deploy/", releases.release_deploy, name="release-deploy"),
    path(
        f"{P}/deployments/<int:deployment_id>/",
        releases.deployment_action,
        name="deployment-action",
    ),
    path(f"{P}/alerts/", alerts.alerts, name="alerts"),
    path(f"{P}/alerts/rules/", alerts.rule_create, name="alert-rule-create"),
    path(f"{P}/alerts/rules/<int:rule_id>/delete/", alerts.rule_delete, name="alert-rule-delete"),
    path(f"{P}/alerts/subscription/", alerts.subscription, name="alert-subscription"),
    path(f"{P}/alerts/webhooks/", alerts.webhook_create, name="webhook-create"),
    path(f"{W}/", alerts.webhook_detail, name="webhook-detail"),
    path(f"{W}/test/", alerts.webhook_test, name="webhook-test"),
    path(f"{W}/enable/", alerts.webhook_enable, name="webhook-enable"),
    path("notifications/", alerts.notification_settings, name="notification-settings"),
    path(f"{P}/settings/", project_settings.project_settings, name="project-settings"),
    path(f"{P}/settings/grouping/", project_settings.grouping_rules, name="grouping-rules"),
    path(f"{P}/settings/keys/", project_settings.key_create, name="key-create"),
    path(
        f"{P}/settings/keys/<int:key_id>/revoke/",
        project_settings.key_revoke,
        name="key-revoke",
    ),
    path(f"{P}/settings/tokens/", project_settings.token_create, name="token-create"),
    path(
        f"{P}/settings/tokens/<int:token_id>/revoke/",
        project_settings.token_revoke,
        name="token-revoke",
    ),
]

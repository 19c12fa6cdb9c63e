from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from dre.api import alerts, diagnostics, health, releases, views

P = "projects/<int:project_id>"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("projects/", views.ProjectList.as_view(), name="api-projects"),
    path(f"{P}/devices/", views.DeviceList.as_view(), name="api-devices"),
    path(f"{P}/devices/<int:pk>/", views.DeviceDetail.as_view(), name="api-device"),
    path(
        f"{P}/devices/<int:pk>/heartbeats/",
        health.DeviceHeartbeats.as_view(),
        name="api-device-heartbeats",
    ),
    path(
        f"{P}/devices/<int:pk>/reboots/", health.DeviceReboots.as_view(), name="api-device-reboots"
    ),
    path(
        f"{P}/devices/<int:pk>/attributes/",
        diagnostics.DeviceAttributes.as_view(),
        name="api-device-attributes",
    ),
    path(
        f"{P}/devices/<int:pk>/timeline/",
        diagnostics.DeviceTimeline.as_view(),
        name="api-device-timeline",
    ),
    path(f"{P}/trace-events/", diagnostics.TraceEventList.as_view(), name="api-trace-events"),
    path(
        f"{P}/trace-events/<int:pk>/",
        diagnostics.TraceEventDetail.as_view(),
        name="api-trace-event",
    ),
    path(f"{P}/log-lines/", diagnostics.LogLineList.as_view(), name="api-log-lines"),
    path(f"{P}/recordings/", diagnostics.RecordingList.as_view(), name="api-recordings"),
    path(f"{P}/recordings/<int:pk>/", diagnostics.RecordingDetail.as_view(), name="api-recording"),
    path(
        f"{P}/recordings/<int:pk>/download/",
        diagnostics.RecordingDownload.as_view(),
        name="api-recording-download",
    ),
    path(f"{P}/health/stability/", health.StabilityList.as_view(), name="api-stability"),
    path(f"{P}/health/metrics/", health.MetricList.as_view(), name="api-metrics"),
    path(
        f"{P}/health/metrics/<str:key>/daily/",
        health.MetricDaily.as_view(),
        name="api-metric-daily",
    ),
    path(
        f"{P}/health/metrics/<str:key>/series/",
        health.MetricSeries.as_view(),
        name="api-metric-series",
    ),
    path(f"{P}/health/metrics/<str:key>/", health.MetricDetail.as_view(), name="api-metric"),
    path(
        f"{P}/devices/<int:pk>/metric-values/",
        health.DeviceMetricValues.as_view(),
        name="api-device-metric-values",
    ),
    path(f"{P}/symbol-files/", views.SymbolFileList.as_view(), name="api-symbol-files"),
    path(f"{P}/symbol-files/upload/", views.SymbolFileUpload.as_view(), name="api-symbol-upload"),
    path(
        f"{P}/symbol-files/<int:pk>/reprocess/",
        views.SymbolFileReprocess.as_view(),
        name="api-symbol-file-reprocess",
    ),
    path(f"{P}/coredumps/", views.CoredumpList.as_view(), name="api-coredumps"),
    path(f"{P}/coredumps/upload/", views.CoredumpUpload.as_view(), name="api-coredump-upload"),
    path(f"{P}/coredumps/<int:pk>/", views.CoredumpDetail.as_view(), name="api-coredump"),
    path(
        f"{P}/coredumps/<int:pk>/reprocess/",
        views.CoredumpReprocess.as_view(),
        name="api-coredump-reprocess",
    ),
    path(f"{P}/traces/", views.TraceList.as_view(), name="api-traces"),
    path(f"{P}/traces/<int:pk>/", views.TraceDetail.as_view(), name="api-trace"),
    path(f"{P}/issues/", views.IssueList.as_view(), name="api-issues"),
    path(f"{P}/issues/<int:pk>/", views.IssueDetail.as_view(), name="api-issue"),
    path(f"{P}/grouping-rules/", views.GroupingRulesDetail.as_view(), name="api-grouping-rules"),
    path(f"{P}/releases/", releases.ReleaseList.as_view(), name="api-releases"),
    path(f"{P}/releases/<int:pk>/", releases.ReleaseDetail.as_view(), name="api-release"),
    path(
        f"{P}/releases/<int:pk>/artifacts/",
        releases.ArtifactUpload.as_view(),
        name="api-release-artifacts",
    ),
    path(f"{P}/deployments/", releases.DeploymentList.as_view(), name="api-deployments"),
    path(
        f"{P}/deployments/<int:pk>/<slug:action>/",
        releases.DeploymentAction.as_view(),
        name="api-deployment-action",
    ),
    path(f"{P}/cohorts/", releases.CohortList.as_view(), name="api-cohorts"),
    path(f"{P}/alert-rules/", alerts.AlertRuleList.as_view(), name="api-alert-rules"),
    path(f"{P}/alert-rules/<int:pk>/", alerts.AlertRuleDetail.as_view(), name="api-alert-rule"),
    path(f"{P}/monitors/", alerts.MonitorList.as_view(), name="api-monitors"),
    path(f"{P}/monitors/<int:pk>/", alerts.MonitorDetail.as_view(), name="api-monitor"),
    path(f"{P}/incidents/", alerts.IncidentList.as_view(), name="api-incidents"),
    path(f"{P}/incidents/<int:pk>/", alerts.IncidentDetail.as_view(), name="api-incident"),
    path(f"{P}/webhooks/", alerts.WebhookList.as_view(), name="api-webhooks"),
    path(f"{P}/webhooks/<int:pk>/", alerts.WebhookDetail.as_view(), name="api-webhook"),
    path(
        f"{P}/webhooks/<int:pk>/deliveries/",
        alerts.WebhookDeliveryList.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        f"{P}/webhooks/<int:pk>/<slug:action>/",
        alerts.WebhookAction.as_view(),
        name="api-webhook-action",
    ),
    path(
        f"{P}/cohorts/<slug:slug>/devices/",
        releases.CohortDevices.as_view(),
        name="api-cohort-devices",
    ),
]

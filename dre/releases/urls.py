"""Memfault-compatible release paths, on the same origin as dre.ingest.urls."""

from django.urls import path

from dre.releases import views

PROJECT = "organizations/<slug:org>/projects/<slug:project>"

urlpatterns = [
    path("releases/latest", views.latest, name="memfault-releases-latest"),
    path("releases/latest/url", views.latest_url, name="memfault-releases-latest-url"),
    path("releases/download/<str:token>", views.download, name="ota-download"),
    path(f"{PROJECT}/releases/ota_payload", views.commit_ota_payload, name="memfault-ota-commit"),
    path(f"{PROJECT}/deployments", views.deployments, name="memfault-deployments"),
    path(
        f"{PROJECT}/deployments/<int:deployment_id>",
        views.deployment_delete,
        name="memfault-deployment",
    ),
]

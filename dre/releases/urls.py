"""Memfault-compatible release paths, on the same origin as dre.ingest.urls.

The devices' paths (`device_urlpatterns`, full paths under api/v0/releases/) come
first in dre.urls, not included: a device asks for its update every few minutes, and
behind the ingest paths each question paid a walk through all of them (a failed
include raises and lists what it tried), a twentieth of its CPU; an include of its
own still cost a level of resolving (4 us of 10)."""

from django.urls import path

from dre.releases import views

PROJECT = "organizations/<slug:org>/projects/<slug:project>"

device_urlpatterns = [
    path("api/v0/releases/latest", views.latest, name="memfault-releases-latest"),
    path("api/v0/releases/latest/url", views.latest_url, name="memfault-releases-latest-url"),
    path("api/v0/releases/download/<str:token>", views.download, name="ota-download"),
]

urlpatterns = [
    path(f"{PROJECT}/releases/ota_payload", views.commit_ota_payload, name="memfault-ota-commit"),
    path(f"{PROJECT}/deployments", views.deployments, name="memfault-deployments"),
    path(
        f"{PROJECT}/deployments/<int:deployment_id>",
        views.deployment_delete,
        name="memfault-deployment",
    ),
]

"""Memfault-compatible paths, all on one origin (memfault-cli's MEMFAULT_URL)."""

from django.urls import path

from dre.ingest import views

PROJECT = "organizations/<slug:org>/projects/<slug:project>"

# What devices send, at the top of dre.urls (full paths, no include): every request
# of a fleet comes here, and each include or failed pattern before a match costs it.
device_urlpatterns = [
    path("api/v0/chunks/<str:device_serial>", views.chunks, name="memfault-chunks"),
    path("api/v0/upload/coredump", views.upload_coredump, name="memfault-upload-coredump"),
]

urlpatterns = [
    path("upload", views.prepare_with_key, name="memfault-prepare"),
    path("uploads/<str:token>", views.upload_put, name="memfault-upload-put"),
    path(
        "uploads/<str:token>/parts/<int:number>",
        views.upload_put_part,
        name="memfault-upload-part",
    ),
    path("uploads/<str:token>/complete", views.upload_complete, name="memfault-upload-complete"),
    path(f"{PROJECT}", views.project_detail, name="memfault-project"),
    path(f"{PROJECT}/upload", views.prepare_with_token, name="memfault-prepare-token"),
    path(
        f"{PROJECT}/upload_multipart",
        views.prepare_multipart,
        name="memfault-prepare-multipart",
    ),
    path(f"{PROJECT}/coredumps", views.commit_coredump, name="memfault-commit-coredump"),
    path(f"{PROJECT}/symbols", views.commit_symbols, name="memfault-commit-symbols"),
    path(
        f"{PROJECT}/symbols-by-gnu-build-id/<str:build_id>",
        views.symbols_by_build_id,
        name="memfault-symbols-by-build-id",
    ),
]

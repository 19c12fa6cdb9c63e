from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v0/", include("dre.ingest.urls")),
    path("api/v0/", include("dre.releases.urls")),
    path("api/v1/", include("dre.api.urls")),
    path("", include("dre.web.urls")),
]

from django.contrib import admin
from django.urls import include, path

from dre.releases.urls import device_urlpatterns

urlpatterns = [
    path("api/v0/releases/", include(device_urlpatterns)),  # first: see dre/releases/urls.py
    path("admin/", admin.site.urls),
    path("api/v0/", include("dre.ingest.urls")),
    path("api/v0/", include("dre.releases.urls")),
    path("api/v1/", include("dre.api.urls")),
    path("", include("dre.web.urls")),
]

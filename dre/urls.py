from django.contrib import admin
from django.urls import include, path

from dre.ingest.urls import device_urlpatterns as ingest_device_urlpatterns
from dre.releases.urls import device_urlpatterns as releases_device_urlpatterns

urlpatterns = [
    # First, what devices ask (dre/ingest/urls.py, dre/releases/urls.py say why).
    *ingest_device_urlpatterns,
    *releases_device_urlpatterns,
    path("admin/", admin.site.urls),
    path("api/v0/", include("dre.ingest.urls")),
    path("api/v0/", include("dre.releases.urls")),
    path("api/v1/", include("dre.api.urls")),
    path("", include("dre.web.urls")),
]

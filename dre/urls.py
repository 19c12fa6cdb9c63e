from django.contrib import admin
from django.urls import include, path

from dre import device_urls

urlpatterns = [
    # First, what devices ask (dre/ingest/urls.py, dre/releases/urls.py say why). In
    # production dre.wsgi answers these through dre.device_urls alone; here for reverse()
    # and the test client.
    *device_urls.urlpatterns,
    path("admin/", admin.site.urls),
    path("api/v0/", include("dre.ingest.urls")),
    path("api/v0/", include("dre.releases.urls")),
    path("api/v1/", include("dre.api.urls")),
    path("", include("dre.web.urls")),
]

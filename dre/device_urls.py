"""What devices ask (DEVICE_URLCONF): the paths dre.wsgi answers through the device
handler (dre/device_handler.py), without the site's browser middleware."""

from dre.ingest.urls import device_urlpatterns as ingest_device_urlpatterns
from dre.releases.urls import device_urlpatterns as releases_device_urlpatterns

urlpatterns = [*ingest_device_urlpatterns, *releases_device_urlpatterns]

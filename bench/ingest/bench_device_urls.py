"""dre's device paths plus the bench's no-op served as one of them (DEVICE_URLCONF in
bench_settings.py): what the device handler alone costs, beside the site's no-op."""

from bench_urls import noop
from django.urls import path

import dre.device_urls

urlpatterns = [path("bench/device-noop", noop), *dre.device_urls.urlpatterns]

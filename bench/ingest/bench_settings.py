"""dre's settings plus a no-op view, for bench/ingest/run.py only: the no-op is the
baseline the ingest endpoints are compared with, so it never appears in dre.urls. The
same no-op is also served as a device path (bench_device_urls.py), through the device
handler, to show what that handler alone saves."""

from dre.settings import *  # noqa: F403  (the bench must measure dre's own settings)

ROOT_URLCONF = "bench_urls"
DEVICE_URLCONF = "bench_device_urls"

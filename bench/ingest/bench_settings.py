"""dre's settings plus a no-op view, for bench/ingest/run.py only: the no-op is the
baseline the ingest endpoints are compared with, so it never appears in dre.urls."""

from dre.settings import *  # noqa: F403  (the bench must measure dre's own settings)

ROOT_URLCONF = "bench_urls"

"""Rate of `GET /api/v0/releases/latest` against a no-op view, in the same run.

    .venv/bin/python bench/releases/run.py [--devices 5000] [--releases 40] [--requests 2000]

Creates a scratch database (dre_bench_releases, on the server of DATABASE_URL or
postgres://postgres@127.0.0.1:5432/), a project with devices in two cohorts and
releases (full, must-pass-through, deltas, staged at 5-50 %) each with a payload, then
sends the same number of requests to `releases/latest` (device serials in turn) and to
a view that only answers "ok", through Django's test client (middleware, project key,
view, queries; no network). Prints requests per second, the median and p95, and the
ratio. Issue 10 asks for at least 60 %. Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.django_bench import scratch_database  # noqa: E402

urlpatterns: list = []  # this module is the URLconf while measuring: dre's paths + /noop


def main() -> None:
    args = _arguments()
    # Measure dre's answer, not the rate limiter's refusals.
    os.environ["DEVICE_RATE_LIMIT"] = os.environ["PROJECT_RATE_LIMIT"] = "100000000/m"
    with scratch_database(args.database):
        key, serials = _build(args.devices, args.releases)
        _route_noop()
        latest = _measure(_latest_requests(key, serials), args.requests)
        noop = _measure(lambda n: ("/noop", {}), args.requests)
        _report(latest, noop)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--releases", type=int, default=40)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", default="dre_bench_releases")
    return parser.parse_args()


def _build(devices: int, releases: int):
    from dre import blobs
    from dre.accounts.services import organization_create, project_create, project_key_create
    from dre.fleet.services import (
        cohort_get_default,
        cohort_get_or_create,
        device_seen,
        devices_move_to_cohort,
        hardware_version_get,
        software_version_get,
    )
    from dre.releases import services

    project = project_create(organization=organization_create(slug="acme"), slug="sensors")
    key = project_key_create(project=project)[1]
    cohorts = [cohort_get_default(project), cohort_get_or_create(project, "beta")]
    hardware = hardware_version_get(project, "evt")
    serials = [f"SN{n:06d}" for n in range(devices)]
    version = software_version_get(project, "main", "1.0.0")
    for serial in serials:
        device_seen(project, serial, hardware_version=hardware, software_version=version)
    devices_move_to_cohort(project, serials[::2], cohorts[1])
    for n in range(releases):
        to = f"1.{n + 1}.0"
        delta = "1.0.0" if n % 10 == 9 else None
        release = services.release_get_or_create(
            project, "main", to, delta_from=delta, must_pass_through=(n % 7 == 3 and not delta)
        )
        stored = blobs.blob_save_bytes(blobs.blob_name("ota", project.pk, ".bin"), b"x" * 4096)
        services.artifact_add(release, "evt", stored, filename=f"{to}.bin")
        for cohort in cohorts:
            services.deployment_activate(release, cohort, percent=(5, 20, 50, 100)[n % 4])
    print(f"built: {devices} devices in 2 cohorts, {releases} releases deployed to both")
    return key, serials


def _route_noop() -> None:
    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    urlpatterns[:] = [
        path("noop", lambda request: HttpResponse("ok")),
        path("", include("dre.urls")),
    ]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()


def _latest_requests(key: str, serials: list[str]):
    def request(n: int):
        query = {"device_serial": serials[n % len(serials)], "hardware_version": "evt",
                 "software_type": "main", "current_version": f"1.{n % 30}.0"}  # fmt: skip
        return "/api/v0/releases/latest", {"data": query, "HTTP_MEMFAULT_PROJECT_KEY": key}

    return request


def _measure(make_request, count: int) -> list[float]:
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    times = []
    for n in range(-50, count):  # 50 warm-up requests
        path, extra = make_request(n)
        started = time.perf_counter()
        response = client.get(path, **extra)
        elapsed = time.perf_counter() - started
        if response.status_code not in (200, 204):
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:200]}")
        if n >= 0:
            times.append(elapsed)
    return times


def _report(latest: list[float], noop: list[float]) -> None:
    for name, times in (("releases/latest", latest), ("no-op view", noop)):
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{name:16} {len(times) / sum(times):8.0f} req/s  median "
              f"{statistics.median(times) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms")  # fmt: skip
    print(f"releases/latest runs at {sum(noop) / sum(latest) * 100:.1f} % of the no-op rate")


if __name__ == "__main__":
    main()

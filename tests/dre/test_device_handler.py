"""dre.wsgi's application: device paths through the device handler (DEVICE_MIDDLEWARE,
DEVICE_URLCONF), everything else through Django's handler and the site's middleware.

Django's test client always runs the site's handler, so these tests call the WSGI
application itself, as gunicorn does.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.urls import include, path, re_path

import dre.urls
from dre.crashes.models import Coredump
from dre.device_handler import DeviceRouting, device_paths
from tests.firmware_fixtures import coredump_path

pytestmark = pytest.mark.django_db


@contextmanager
def connections_kept():
    """A WSGI handler closes the database connection after each request; inside a
    test's transaction that would end the test's data. Django's test client keeps it
    the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(application, method: str, path_info: str, body: bytes = b"", **headers):
    """(status line, headers, body) of one request, through the WSGI interface."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/octet-stream",
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    with connections_kept():
        result = application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()
    return answer["status"], answer["headers"], content


@pytest.fixture
def application():
    from dre.wsgi import site

    return DeviceRouting(site)


def test_it_stores_a_device_upload_without_the_sites_middleware(application, project_key):
    data = coredump_path().read_bytes()

    status, headers, _ = call(
        application, "POST", "/api/v0/upload/coredump", data, memfault_project_key=project_key
    )

    assert status.startswith("202")
    assert Coredump.objects.get().size == len(data)
    # No session or CSRF cookie to vary on, no page to frame.
    assert "Vary" not in headers
    assert "X-Frame-Options" not in headers


def test_it_serves_pages_through_the_sites_middleware(application):
    status, headers, _ = call(application, "GET", "/login/")

    assert status.startswith("200")
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers.get("Set-Cookie", "")


def test_it_still_sends_a_device_on_plain_http_to_https(settings, project_key):
    from dre.wsgi import site

    settings.SECURE_SSL_REDIRECT = True
    application = DeviceRouting(site)  # middleware reads its settings when built

    status, headers, _ = call(
        application, "POST", "/api/v0/chunks/dev-1", b"x", memfault_project_key=project_key
    )

    assert status.startswith("301")
    assert headers["Location"] == "https://testserver/api/v0/chunks/dev-1"


def page(request):
    return HttpResponse("a page")


# This module as the site's URLconf in the next test: dre's routes plus a page that
# lies under a device prefix.
urlpatterns = [path("api/v0/chunks/dev-1/page", page), *dre.urls.urlpatterns]


def test_a_page_under_a_device_prefix_is_not_served_without_the_sites_middleware(settings):
    from dre.wsgi import site

    settings.ROOT_URLCONF = __name__

    status, _, _ = call(DeviceRouting(site), "GET", "/api/v0/chunks/dev-1/page")

    assert status.startswith("404")  # the device handler knows only the device routes
    assert call(site, "GET", "/api/v0/chunks/dev-1/page")[0].startswith("200")


class AsyncOnlyMiddleware:
    sync_capable, async_capable = False, True

    def __init__(self, get_response):
        self.get_response = get_response


def test_it_refuses_device_middleware_that_cannot_run_synchronously(settings):
    from dre.wsgi import site

    settings.DEVICE_MIDDLEWARE = [f"{__name__}.AsyncOnlyMiddleware"]

    with pytest.raises(ImproperlyConfigured, match="cannot run synchronously"):
        DeviceRouting(site)


class StampingMiddleware:
    """A device middleware with a view hook, as an operator might add one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Stamp"] = getattr(request, "stamp", "none")
        return response

    def process_view(self, request, view, args, kwargs):
        request.stamp = view.__name__


def test_it_runs_device_middleware_and_its_view_hooks(settings, project_key):
    from dre.wsgi import site

    settings.DEVICE_MIDDLEWARE = [f"{__name__}.StampingMiddleware"]
    application = DeviceRouting(site)

    status, headers, _ = call(
        application, "POST", "/api/v0/upload/coredump", coredump_path().read_bytes(),
        memfault_project_key=project_key,
    )  # fmt: skip

    assert status.startswith("202")
    assert headers["X-Stamp"] == "upload_coredump"


def view(request, **kwargs):
    return HttpResponse()


def test_it_tells_device_paths_by_whole_path_or_by_what_comes_before_a_converter():
    exact, prefixes = device_paths(
        [path("api/v0/upload/coredump", view), path("api/v0/chunks/<str:serial>", view)]
    )

    assert exact == {"/api/v0/upload/coredump"}
    assert prefixes == ("/api/v0/chunks/",)


@pytest.mark.parametrize(
    "pattern",
    [
        path("api/v0/", include([])),
        re_path(r"^api/v0/chunks/(?P<serial>\w+)$", view),
        path("<str:anything>", view),
    ],
    ids=["include", "regex", "converter first"],
)
def test_it_refuses_device_routes_it_cannot_tell_by_path(pattern):
    with pytest.raises(ImproperlyConfigured):
        device_paths([pattern])

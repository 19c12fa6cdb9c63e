"""What devices ask is answered without the site's browser middleware.

Every request of a fleet (heartbeat chunks, coredumps, the update check) carries a
project key and nothing of a browser: no session or CSRF cookie, no login to throttle,
no static file, no page to frame. Through settings.MIDDLEWARE each one still paid for
all of that: a session store, a message store, CSRF and axes checks, a static file
lookup and their response hooks, 57 us of CPU per request in one thread; under gunicorn
an upload's rate rose by about a tenth without them (bench/results, "Device requests
without the site's middleware").

So dre.wsgi's application routes by path: what DEVICE_URLCONF routes goes to a
DeviceHandler, which runs only DEVICE_MIDDLEWARE (what applies to any request: the
HTTPS redirect and HSTS, disallowed user agents) and resolves among the device paths
only, so that a page added under a device path later 404s here instead of being served
without its middleware. Everything else goes to Django's handler, unchanged. dre.urls
routes the device paths too, for reverse() and Django's test client.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import URLPattern
from django.urls.resolvers import RoutePattern
from django.utils.module_loading import import_string


class DeviceHandler(WSGIHandler):
    """Django's WSGI handler with DEVICE_MIDDLEWARE instead of MIDDLEWARE, resolving
    with DEVICE_URLCONF."""

    def load_middleware(self, is_async=False):
        if is_async:
            raise ImproperlyConfigured("the device handler serves WSGI only")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.DEVICE_MIDDLEWARE):
            factory = import_string(path)
            # Django's own loader would adapt an async-only middleware; this one
            # chains plain calls, so it refuses one instead of running it wrongly.
            if not getattr(factory, "sync_capable", True):
                raise ImproperlyConfigured(f"device middleware {path} cannot run synchronously")
            try:
                middleware = factory(handler)
            except MiddlewareNotUsed:
                continue
            self._add_hooks(middleware)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def _add_hooks(self, middleware) -> None:
        """The optional hooks of a middleware, in the order Django's handler runs them."""
        if hasattr(middleware, "process_view"):
            self._view_middleware.insert(0, middleware.process_view)
        if hasattr(middleware, "process_template_response"):
            self._template_response_middleware.append(middleware.process_template_response)
        if hasattr(middleware, "process_exception"):
            self._exception_middleware.append(middleware.process_exception)

    def get_response(self, request):
        request.urlconf = settings.DEVICE_URLCONF
        return super().get_response(request)


class DeviceRouting:
    """A WSGI application: device paths to a DeviceHandler, the rest to `site`."""

    def __init__(self, site):
        self._site = site
        self._devices = DeviceHandler()
        self._exact, self._prefixes = device_paths(
            import_module(settings.DEVICE_URLCONF).urlpatterns
        )

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in self._exact or path.startswith(self._prefixes):
            return self._devices(environ, start_response)
        return self._site(environ, start_response)


def device_paths(urlpatterns) -> tuple[frozenset[str], tuple[str, ...]]:
    """The paths of routes without converters, and the fixed starts of the others:
    what the router tells device requests by, without resolving twice."""
    exact, prefixes = set(), []
    for pattern in urlpatterns:
        if not (isinstance(pattern, URLPattern) and isinstance(pattern.pattern, RoutePattern)):
            raise ImproperlyConfigured(f"DEVICE_URLCONF holds only path() routes, not {pattern!r}")
        route = "/" + str(pattern.pattern)
        fixed, converter, _ = route.partition("<")
        if not converter:
            exact.add(route)
        elif fixed == "/":
            raise ImproperlyConfigured(f"device route {route!r} would take in every path")
        else:
            prefixes.append(fixed)
    return frozenset(exact), tuple(prefixes)

"""dre's URLs and the bench's no-op view (bench_settings.py).

dre's patterns are spliced in, not included under "": an include would add a level
of resolving to every dre endpoint that dre's own ROOT_URLCONF does not have, and
that the no-op, matched first, would not pay.
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

import dre.urls


@csrf_exempt
@require_http_methods(["GET", "POST"])
def noop(request):
    """The cheapest request Django answers through dre's middleware: the body is read,
    not kept."""
    request.body  # noqa: B018  (read it, as the ingest views do)
    return HttpResponse("Accepted", status=202, content_type="text/plain")


urlpatterns = [path("bench/noop", noop), *dre.urls.urlpatterns]

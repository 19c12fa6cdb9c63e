"""What a caller locked out by django-axes (see settings: password guessing) is told."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with Retry-After: JSON on the API paths (memfault-cli), text on the pages."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = f"too many failed logins; try again in {seconds // 60} minutes"
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": {"message": message, "type": "rate_limited"}}, status=429)
    else:
        response = HttpResponse(message.capitalize() + ".", status=429, content_type="text/plain")
    response["Retry-After"] = str(seconds)
    return response

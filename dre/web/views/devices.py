"""A device's page: facts, attributes, metric charts and the timeline of everything it
sent (heartbeats, reboots, traces, trace events, logs, recordings); recording downloads."""

from __future__ import annotations

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from dre import blobs
from dre.diagnostics import selectors as diagnostics
from dre.diagnostics.timeline import device_timeline
from dre.fleet.models import Device
from dre.health import selectors as health
from dre.health.attributes import device_attributes
from dre.web.access import project_access
from dre.web.views.common import render_page

GET = ["GET", "HEAD"]


@login_required
@require_http_methods(GET)
def device_detail(request, org, project, serial):
    access = project_access(request, org, project)
    device = get_object_or_404(
        Device.objects.select_related(
            "hardware_version", "software_version__software_type", "cohort"
        ),
        project=access.project,
        serial=serial,
    )
    context = {
        "device": device,
        "attributes": device_attributes(device),
        "timeline": device_timeline(access.project, device),
        # Built as JSON by PostgreSQL and embedded as it is: see device_metric_series_json.
        "charts_json": '{"metrics": ' + health.device_metric_series_json(device) + "}",
    }
    return render_page(request, "web/device_detail.html", context)


@login_required
@require_http_methods(GET)
def recording_download(request, org, project, recording_id):
    access = project_access(request, org, project)
    recording = diagnostics.recording_get(access.project, recording_id)
    if recording is None:
        raise Http404("no such recording")
    return recording_response(recording)


def recording_response(recording) -> FileResponse:
    """The bytes with the first MIME type the device gave, always as an attachment (a
    device-chosen type must not render in dre's origin)."""
    try:
        handle = blobs.blob_open(recording.blob)
    except OSError as exc:
        raise Http404("the recording's bytes are gone") from exc
    extension = mimetypes.guess_extension(recording.content_type) or ".bin"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"recording-{recording.pk}{extension}",
        content_type=recording.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

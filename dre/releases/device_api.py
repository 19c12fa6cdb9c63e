"""A device asks for its update: `GET /api/v0/releases/latest[/url]`.

memfault-formats.md 4.3: project key in `Memfault-Project-Key`; query
`device_serial`, `hardware_version`, `software_type` (required) and
`current_version`. 200 with the release (JSON, or the URL as text), 204 with
`memfault-reason: latest` when there is nothing newer, 400 for a missing or
unknown parameter, 403 for a bad key, 503 with Retry-After when dre cannot
answer now. Every 200 and 204 is recorded as an UpdateCheck, written by the
process's writer within FLUSH_SECONDS (update_checks.py). What the choice reads
is kept per process for the project's current release generation
(device_cache.py).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse

from dre.fleet.selectors import software_types_of
from dre.fleet.services import device_seen, device_validate_serial
from dre.ingest.views import RequestRejected, absolute_url, require_project_key, require_rate
from dre.releases import device_cache
from dre.releases.downloads import artifact_download_url
from dre.releases.update_checks import UpdateCheckSeen, update_check_submit

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "30"


def answer(request, *, as_url: bool) -> HttpResponse:
    project = require_project_key(request)
    try:
        return _answer(request, project, as_url=as_url)
    except DatabaseError:
        log.exception("releases/latest could not read the database")
        return _unavailable("dre cannot reach its database")


def _within_rate(project, serial: str | None) -> None:
    # The reference lists no 429 here; devices retry on 503 after Retry-After.
    try:
        require_rate(project, serial)
    except RequestRejected as exc:
        if exc.status != 429:
            raise
        raise RequestRejected(503, str(exc), exc.headers) from None


def _unavailable(message: str) -> JsonResponse:
    response = JsonResponse({"error": {"message": message, "type": "unavailable"}}, status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _answer(request, project, *, as_url: bool) -> HttpResponse:
    params = _query(request)
    serial = _param(params, "device_serial")
    device_validate_serial(serial)
    _within_rate(project, serial)
    snapshot = device_cache.snapshot_for(project.pk)
    hardware = device_cache.hardware_version(snapshot, project, _param(params, "hardware_version"))
    if hardware is None:
        raise RequestRejected(400, f"unknown hardware_version {params['hardware_version']!r}")
    software_type = _software_type(snapshot, project, params)
    current = _param(params, "current_version", required=False)
    software_version = device_cache.software_version(snapshot, project, software_type, current)
    device, marked = _device(snapshot, project, serial, hardware, software_version)
    offers = device_cache.offers(snapshot, device.cohort_id, software_type, hardware)
    release = offers.choose(serial, current)
    update_check_submit(
        UpdateCheckSeen(
            project_id=project.pk,
            serial=serial,
            device_id=device.id,
            cohort_id=device.cohort_id,
            software_type_id=software_type.pk,
            hardware_version=hardware,
            software_version=software_version,
            current_version=current,
            release_id=release.pk if release else None,
            mark_seen=not marked,
        )
    )
    if release is None:
        response = HttpResponse(status=204)
        response["memfault-reason"] = "latest"
        return response
    artifact = offers.artifacts[release.pk]
    url = artifact_download_url(artifact, absolute_url(request, ""))
    if as_url:
        return HttpResponse(url, content_type="text/plain; charset=utf-8")
    return HttpResponse(offers.release_body(release, url), content_type="application/json")


def _device(snapshot, project, serial, hardware, software_version):
    """The device's id and cohort, and whether it needs no mark as seen (with the
    versions it reports) in the update check's group commit.

    An unknown device is found or created, and marked, now. A device this process
    knows in the current generation is marked with the group commit when it reports
    other versions, or when this process last marked it SEEN_EVERY_SECONDS ago: its
    last_seen is that much behind at most, and a device asking again and again costs
    one INSERT per question, not an UPDATE too."""
    versions = (hardware.pk, software_version.pk if software_version else None)
    known = device_cache.known_device(snapshot, project.pk, serial)
    if known is not None:
        if not known.needs_mark(versions):
            return known, True
        return device_cache.device_keep(snapshot, known, versions), False
    device = device_seen(
        project, serial, hardware_version=hardware, software_version=software_version
    )
    return device_cache.device_keep(snapshot, device, versions), True


def _query(request):
    """The query's parameters, each name's last value (as `request.GET.get`).

    The SDKs send ASCII (percent-encoded), which a plain dict of parse_qsl holds for a
    quarter of what building request.GET (a QueryDict) cost: that was a tenth of an
    answer's CPU. Anything else is decoded by Django, as for any view."""
    query = request.META.get("QUERY_STRING", "")
    if not query.isascii():
        return request.GET
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True, max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        )
    except ValueError:  # more fields than that: what Django refuses as TooManyFieldsSent
        raise RequestRejected(400, "too many query parameters") from None
    return dict(pairs)


def _param(params, name: str, *, required: bool = True) -> str | None:
    value = params.get(name) or None
    if value is None and required:
        raise RequestRejected(400, f"the query parameter {name} is required")
    if value is not None and (not value.isprintable() or len(value) > 128):
        raise RequestRejected(400, f"{name} {value!r} is not a printable name of 128 or fewer")
    return value


def _software_type(snapshot, project, params):
    """The named software type; older iOS SDKs send none, which is fine when the
    project has only one (memfault-formats.md 4.3)."""
    name = _param(params, "software_type", required=False)
    if name is None:
        known = software_types_of(project)
        if len(known) == 1:
            return known[0]
        raise RequestRejected(400, "the query parameter software_type is required")
    found = device_cache.software_type(snapshot, project, name)
    if found is None:
        raise RequestRejected(400, f"unknown software_type {name!r}")
    return found

"""Memfault-compatible endpoints for devices and memfault-cli (memfault-formats.md 2.3, 3).

Plain Django views: these endpoints have exact status codes and raw bodies
that the SDK and the CLI depend on. Each view checks its caller, its limits
and its input, then hands over to a service.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.http import HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import get_object_or_404
from django.utils.http import parse_header_parameters
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from requests_toolbelt.multipart.decoder import (
    ImproperBodyPartContentException,
    MultipartDecoder,
    NonMultipartContentTypeException,
)

from dre.accounts.models import Project
from dre.crashes.models import Coredump
from dre.crashes.services import NotACoredump, coredump_create, coredump_receive
from dre.fleet.services import (
    InvalidDeviceSerial,
    device_seen,
    device_validate_serial,
    software_version_get,
)
from dre.ingest import auth, uploads
from dre.ingest.models import Upload
from dre.ingest.ratelimit import rate_limits_hit
from dre.ingest.services import chunks_accept
from dre.symbols.models import SymbolFile
from dre.symbols.services import SymbolFileDuplicate, SymbolFileRejected, symbol_file_ingest

MAX_CHUNKS_PER_REQUEST = 1000
# memfault-cli's JSON bodies (prepare, commit) are a few hundred bytes.
MAX_JSON_BYTES = 1024 * 1024


class RequestRejected(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def error(status: int, message: str, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        {"error": {"message": message, "type": _ERROR_TYPES.get(status)}}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


_ERROR_TYPES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def rejections_as_errors(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except RequestRejected as exc:
            return error(exc.status, str(exc), exc.headers)
        except uploads.UploadError as exc:
            return error(exc.status, str(exc))
        except InvalidDeviceSerial as exc:
            return error(400, str(exc))
        except UnreadablePostError as exc:
            return error(400, f"the body could not be read: {exc}")
        except RequestDataTooBig as exc:
            return error(413, str(exc))
        except SuspiciousOperation as exc:  # Django's own request checks
            return error(400, str(exc))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return csrf_exempt(wrapper)


# -- checks shared by the views ------------------------------------------------


def require_project_key(request) -> Project:
    project = auth.project_from_key(request)
    if project is None:
        raise RequestRejected(403, "missing or invalid Memfault-Project-Key")
    return project


def require_member(request, org: str, project_slug: str) -> Project:
    project = get_object_or_404(
        Project.objects.select_related("organization"), organization__slug=org, slug=project_slug
    )
    if not auth.may_upload(auth.principal_from_request(request), project):
        raise RequestRejected(403, "this token or user may not upload to this project")
    return project


def require_length(request, limit: int) -> int:
    length = request.META.get("CONTENT_LENGTH")
    if not length:
        raise RequestRejected(411, "Content-Length is required")
    try:
        size = int(length)
    except ValueError:
        raise RequestRejected(400, f"Content-Length {length!r} is not a number") from None
    if size < 0:
        raise RequestRejected(400, f"Content-Length {length!r} is negative")
    if size > limit:
        raise RequestRejected(413, f"body of {size} bytes is over the limit of {limit}")
    return size


def require_rate(project: Project, serial: str | None = None) -> None:
    checks = [("project", str(project.pk), settings.PROJECT_RATE_LIMIT)]
    if serial:
        checks.append(("device", f"{project.pk}:{serial}", settings.DEVICE_RATE_LIMIT))
    for (scope, _, rate), wait in zip(checks, rate_limits_hit(checks), strict=True):
        if wait is not None:
            raise RequestRejected(
                429, f"{scope} rate limit of {rate} reached", {"Retry-After": str(wait)}
            )


def read_body(request, size: int) -> bytes:
    """The body whose Content-Length `require_length` accepted.

    Read from the stream, not `request.body`: that one stops at Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), below the limits devices are
    promised, with a generic HTML 400.
    """
    body = request.read(size)
    if len(body) < size:
        raise RequestRejected(400, f"the body ended after {len(body)} of {size} bytes")
    return body


def json_body(request) -> dict:
    """The JSON object a request sent; no body at all counts as `{}`."""
    has_length = request.META.get("CONTENT_LENGTH")
    raw = read_body(request, require_length(request, MAX_JSON_BYTES)) if has_length else b""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRejected(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestRejected(400, "body is not valid JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise RequestRejected(400, "body must be a JSON object")
    return body


JSON_TYPE_NAMES = {dict: "an object", str: "a string", int: "an integer"}


def json_field(body: dict, name: str, kind: type, label: str = ""):
    """`body[name]` if it is absent, null or of `kind`; anything else is a 400."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RequestRejected(400, f"{label or name} must be {JSON_TYPE_NAMES[kind]}")
    if isinstance(value, str) and not value.isprintable():
        raise RequestRejected(400, f"{label or name} {value!r} contains control characters")
    return value


def text_param(params, name: str) -> str | None:
    """A query parameter that names something: printable text, as the database stores."""
    value = params.get(name)
    if value is not None and not value.isprintable():
        raise RequestRejected(400, f"{name} {value!r} contains control characters")
    return value


def absolute_url(request, path: str) -> str:
    base = settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"
    return base + path


# -- devices -------------------------------------------------------------------


@rejections_as_errors
@require_http_methods(["POST"])
def chunks(request, device_serial: str):
    """One chunk (raw or base64) or many (multipart/mixed) from a device."""
    project = require_project_key(request)
    device_validate_serial(device_serial)
    size = require_length(request, settings.MAX_REQUEST_BYTES)
    require_rate(project, device_serial)
    report = chunks_accept(project, device_serial, chunk_bodies(request, read_body(request, size)))
    if report.malformed:
        raise RequestRejected(400, "malformed chunk: " + "; ".join(report.malformed))
    if report.over_budget:
        raise RequestRejected(413, "; ".join(report.over_budget))
    return HttpResponse("Accepted", status=202, content_type="text/plain")


def chunk_bodies(request, body: bytes) -> list[bytes]:
    content_type = request.content_type or ""
    if content_type == "application/octet-stream":
        return [_decoded(body, request.META.get("HTTP_CONTENT_ENCODING", ""))]
    if content_type == "multipart/mixed":
        return _multipart_chunks(request, body)
    raise RequestRejected(
        415, f"Content-Type {content_type!r}: use application/octet-stream or multipart/mixed"
    )


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding.strip().lower() != "base64":
        return body
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise RequestRejected(400, f"body is not valid base64: {exc}") from None


def _multipart_chunks(request, body: bytes) -> list[bytes]:
    content_type = request.headers["Content-Type"]
    # The decoder fails with an AttributeError on a missing boundary: check it first.
    if not parse_header_parameters(content_type)[1].get("boundary"):
        raise RequestRejected(400, "multipart/mixed needs a non-empty boundary parameter")
    try:
        parts = MultipartDecoder(body, content_type).parts
    except (NonMultipartContentTypeException, ImproperBodyPartContentException) as exc:
        raise RequestRejected(400, f"cannot parse the multipart body: {exc}") from None
    except ValueError as exc:  # also a part header that is not UTF-8
        raise RequestRejected(400, f"cannot parse the multipart body: {exc}") from None
    if len(parts) > MAX_CHUNKS_PER_REQUEST:
        raise RequestRejected(413, f"{len(parts)} parts; at most {MAX_CHUNKS_PER_REQUEST}")
    return [
        _decoded(part.content, part.headers.get(b"Content-Encoding", b"").decode("latin-1"))
        for part in parts
    ]


@rejections_as_errors
@require_http_methods(["POST"])
def upload_coredump(request):
    """A raw coredump (SDK GDB script, Zephyr dumps), or memfault-cli's commit when the
    body is JSON. Optional query parameters device_serial, software_type and
    software_version name what a format without them (Zephyr's) came from."""
    project = require_project_key(request)
    if request.content_type == "application/json":
        return _commit_coredump(request, project)
    size = require_length(request, settings.MAX_COREDUMP_BYTES)
    require_rate(project)
    params = request.GET
    serial = params.get("device_serial")
    if serial is not None:
        device_validate_serial(serial)
    body = read_body(request, size)
    try:
        coredump_id = coredump_receive(
            project,
            body,
            source=Coredump.Source.UPLOAD,
            device=device_seen(project, serial) if serial else None,
            software_version=software_version_get(
                project, text_param(params, "software_type"), text_param(params, "software_version")
            ),
        )
    except NotACoredump as exc:
        raise RequestRejected(400, str(exc)) from None
    return accepted_coredump(coredump_id)


def accepted_coredump(coredump_id: int) -> HttpResponse:
    """The 202 naming a stored coredump: what JsonResponse would write, without
    its encoder's work on every raw upload."""
    body = b'{"data": {"id": %d}}' % coredump_id
    return HttpResponse(body, status=202, content_type="application/json")


def _commit_coredump(request, project: Project):
    body = json_body(request)
    file_info = json_field(body, "file", dict)
    serial = json_field(body, "device_serial", str)
    if serial is not None:
        device_validate_serial(serial)
    # One transaction: a commit that fails half way leaves the upload committable.
    with transaction.atomic():
        stored = uploads.upload_commit(project, Upload.Kind.COREDUMP, file_info)
        device = device_seen(project, serial) if serial else None
        coredump = coredump_create(
            project, stored, source=Coredump.Source.PREPARED_UPLOAD, device=device
        )
    return JsonResponse({"data": {"id": coredump.pk}}, status=202)


# -- memfault-cli's prepared uploads --------------------------------------------


@rejections_as_errors
@require_http_methods(["POST"])
def prepare_with_key(request):
    return _prepare(request, require_project_key(request))


@rejections_as_errors
@require_http_methods(["POST"])
def prepare_with_token(request, org: str, project: str):
    return _prepare(request, require_member(request, org, project))


def _prepare(request, project: Project):
    body = json_body(request)
    size = json_field(body, "size", int, "size (a number of bytes)")
    if size is not None and size < 0:
        raise RequestRejected(400, f"size {size} is negative")
    kind = json_field(body, "kind", str) or ""
    require_rate(project)
    _, token = uploads.upload_prepare(project, kind, size)
    url = absolute_url(request, f"/api/v0/uploads/{token}")
    return JsonResponse({"data": {"upload_url": url, "token": token}})


@rejections_as_errors
@require_http_methods(["POST"])
def prepare_multipart(request, org: str, project: str):
    """memfault-cli's multipart prepare (OTA payloads only, memfault-formats.md 3.2)."""
    target = require_member(request, org, project)
    body = json_body(request)
    size = json_field(body, "size", int, "size (a number of bytes)")
    kind = json_field(body, "kind", str) or ""
    require_rate(target)
    token, parts = uploads.upload_prepare_multipart(target, kind, size)
    base = absolute_url(request, f"/api/v0/uploads/{token}")
    return JsonResponse(
        {
            "data": {
                "part_urls": [f"{base}/parts/{n}" for n in range(1, parts + 1)],
                "complete_upload_url": f"{base}/complete",
                "token": token,
            }
        }
    )


@rejections_as_errors
@require_http_methods(["PUT"])
def upload_put_part(request, token: str, number: int):
    """One unauthenticated part PUT; answers with the part's ETag as S3 does."""
    response = HttpResponse(status=200)
    response["ETag"] = uploads.upload_receive_part(token, number, request)
    return response


@rejections_as_errors
@require_http_methods(["POST"])
def upload_complete(request, token: str):
    """The S3-style CompleteMultipartUpload that joins the parts."""
    size = require_length(request, uploads.MAX_COMPLETION_BYTES)
    uploads.upload_complete(token, read_body(request, size))
    return HttpResponse(status=200)


@rejections_as_errors
@require_http_methods(["PUT"])
def upload_put(request, token: str):
    """The one-time, unauthenticated PUT of a prepared upload's bytes."""
    uploads.upload_receive(token, request)
    return HttpResponse(status=200)


@rejections_as_errors
@require_http_methods(["POST"])
def commit_coredump(request, org: str, project: str):
    return _commit_coredump(request, require_member(request, org, project))


@rejections_as_errors
@require_http_methods(["POST"])
def commit_symbols(request, org: str, project: str):
    """memfault-cli upload-mcu-symbols: commit an ELF with an optional software version."""
    target = require_member(request, org, project)
    body = json_body(request)
    file_info = json_field(body, "file", dict) or {}
    version = json_field(body, "software_version", dict) or {}
    name = json_field(file_info, "name", str, "file.name") or "symbols.elf"
    software_type = json_field(version, "software_type", str, "software_version.software_type")
    software_version = json_field(version, "version", str, "software_version.version")
    try:
        # Validate everything first and commit the upload last, in one transaction:
        # a commit that fails leaves the upload committable by a corrected retry.
        with transaction.atomic():
            stored = uploads.upload_commit(target, Upload.Kind.SYMBOL_FILE, file_info)
            symbol_file = symbol_file_ingest(
                target,
                stored,
                name=name,
                software_type=software_type,
                software_version=software_version,
            )
    except SymbolFileRejected as exc:
        raise RequestRejected(400, str(exc)) from None
    except SymbolFileDuplicate as exc:
        raise RequestRejected(409, str(exc)) from None
    return JsonResponse({"data": {"id": symbol_file.pk, "build_id": symbol_file.build_id}})


@rejections_as_errors
@require_http_methods(["GET", "HEAD"])
def symbols_by_build_id(request, org: str, project: str, build_id: str):
    """memfault-cli's pre-upload check: 200 when this build id is already uploaded."""
    target = require_member(request, org, project)
    found = SymbolFile.objects.filter(project=target, build_id=build_id.lower()).first()
    if found is None:
        return error(404, f"no symbol file with build id {build_id}")
    return JsonResponse({"data": {"id": found.pk, "build_id": found.build_id}})


@rejections_as_errors
@require_http_methods(["GET"])
def project_detail(request, org: str, project: str):
    target = require_member(request, org, project)
    # A truthy max_ota_upload_size makes the CLI upload OTA payloads in parts (3.2).
    multipart = settings.OTA_UPLOAD_PART_BYTES > 0
    return JsonResponse(
        {
            "data": {
                "id": target.pk,
                "slug": target.slug,
                "name": target.name,
                "max_ota_upload_size": settings.MAX_OTA_PAYLOAD_BYTES if multipart else 0,
            }
        }
    )

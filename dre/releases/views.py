"""Memfault-compatible release endpoints: memfault-cli's `upload-ota-payload` and
`deploy-release` (memfault-formats.md 3.3, 3.5), the devices' `releases/latest`
(4.3) and the signed artifact downloads it hands out."""

from __future__ import annotations

from django.db import DatabaseError, transaction
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_http_methods

from dre import blobs
from dre.accounts.models import Project
from dre.fleet.models import DEFAULT_COHORT
from dre.fleet.selectors import cohort_find
from dre.fleet.services import cohort_get_default
from dre.ingest import auth, uploads
from dre.ingest.models import Upload
from dre.ingest.views import (
    RequestRejected,
    error,
    json_body,
    json_field,
    rejections_as_errors,
)
from dre.releases import device_api, selectors, services
from dre.releases.downloads import DownloadRefused, artifact_from_token, artifact_presigned_url
from dre.releases.formats import artifact_json, deployment_json


def release_errors_as_http(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.ReleaseRejected as exc:
            return error(400, str(exc))
        except services.ReleaseConflict as exc:
            return error(409, str(exc))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return rejections_as_errors(wrapper)


# -- memfault-cli ------------------------------------------------------------------


def require_member(request, org: str, project_slug: str):
    """The URL's project, for a member of its organization; the caller is kept as
    `request.principal` for the deployment log."""
    project = Project.objects.filter(organization__slug=org, slug=project_slug).first()
    if project is None:
        raise RequestRejected(404, f"no project {org}/{project_slug}")
    request.principal = auth.principal_from_request(request)
    if not auth.may_upload(request.principal, project):
        raise RequestRejected(403, "this token or user may not change this project's releases")
    return project


@release_errors_as_http
@require_http_methods(["POST"])
def commit_ota_payload(request, org: str, project: str):
    """memfault-cli upload-ota-payload's commit: the payload becomes an artifact of the
    release it names, created on its first payload."""
    target = require_member(request, org, project)
    body = json_body(request)
    file_info = json_field(body, "file", dict) or {}
    version = json_field(body, "software_version", dict) or {}
    for unsupported in ("component_version", "component_base_version"):
        if body.get(unsupported) is not None:
            raise RequestRejected(400, f"dre does not support {unsupported} releases yet")
    with transaction.atomic():
        stored = uploads.upload_commit(target, Upload.Kind.OTA_PAYLOAD, file_info)
        to, delta_from = _version_pair(version.get("version"))
        release = services.release_get_or_create(
            target,
            _required(version, "software_type", "software_version.software_type"),
            to,
            delta_from=delta_from,
            revision=json_field(version, "revision", str, "software_version.revision") or "",
            notes=json_field(body, "notes", str) or "",
            must_pass_through=_flag(body, "must_pass_through"),
        )
        artifact = services.artifact_add(
            release,
            _required(body, "hardware_version"),
            stored,
            filename=json_field(file_info, "name", str, "file.name") or "payload.bin",
            firmware_type=json_field(body, "firmware_type", str) or "standalone",
            extra_info=json_field(body, "extra_info", dict),
        )
    return JsonResponse({"data": {"release_id": release.pk, **artifact_json(artifact)}})


def _required(body: dict, name: str, label: str = "") -> str:
    value = json_field(body, name, str, label)
    if not value:
        raise RequestRejected(400, f"{label or name} is required")
    return value


def _version_pair(value) -> tuple[str, str | None]:
    """(version, delta_from): the CLI sends "V", or ["A", "B"] for a delta A -> B."""
    if isinstance(value, str) and value:
        return value, None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[1], value[0]
    raise RequestRejected(400, "software_version.version must be a version or [from, to]")


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise RequestRejected(400, f"{name} must be true or false")
    return value


@release_errors_as_http
@require_http_methods(["GET", "POST"])
def deployments(request, org: str, project: str):
    """memfault-cli deploy-release: activate (POST), or find the one to deactivate (GET)."""
    target = require_member(request, org, project)
    if request.method == "GET":
        return _deployment_search(request, target)
    body = json_body(request)
    release = _named_release(target, body.get("release"))
    cohort = _named_cohort(target, _required(body, "cohort"))
    kind = json_field(body, "type", str) or "normal"
    if kind not in ("normal", "staged_rollout"):
        raise RequestRejected(400, "type must be normal or staged_rollout")
    percent = body.get("rollout_percent") if kind == "staged_rollout" else 100
    deployment = services.deployment_activate(
        release, cohort, percent=percent, actor=request.principal
    )
    return JsonResponse({"data": deployment_json(deployment)}, status=201)


def _deployment_search(request, project):
    params = request.GET
    filters = {}
    if "cohort" in params:
        filters["cohort__slug"] = params["cohort"]
    if "release" in params:
        filters |= {"release__version__version": params["release"], "release__delta_from": None}
    if "delta_to" in params or "delta_from" in params:
        filters["release__version__version"] = params.get("delta_to", "")
        filters["release__delta_from__version"] = params.get("delta_from", "")
    found = selectors.deployment_list(project, **filters)
    return JsonResponse({"data": [deployment_json(d) for d in found]})


def _named_release(project, value):
    version, delta_from = _version_pair(value)
    release = selectors.release_find_by_version(project, version, delta_from)
    if release is None:
        raise RequestRejected(404, f"no release {value!r} in this project")
    return release


def _named_cohort(project, slug: str):
    cohort = cohort_get_default(project) if slug == DEFAULT_COHORT else cohort_find(project, slug)
    if cohort is None:
        raise RequestRejected(404, f"no cohort {slug!r} in this project")
    return cohort


@release_errors_as_http
@require_http_methods(["DELETE"])
def deployment_delete(request, org: str, project: str, deployment_id: int):
    """memfault-cli deploy-release --deactivate: the deployment is pulled."""
    target = require_member(request, org, project)
    found = selectors.deployment_list(target, pk=deployment_id)
    if not found:
        raise RequestRejected(404, f"no deployment {deployment_id} in this project")
    services.deployment_pull(found[0], actor=request.principal)
    return HttpResponse(status=204)


# -- devices -------------------------------------------------------------------------


@rejections_as_errors
@require_http_methods(["GET", "HEAD"])
def latest(request):
    """The release JSON the Android and iOS SDKs parse, or 204 (memfault-formats.md 4.3)."""
    return device_api.answer(request, as_url=False)


@rejections_as_errors
@require_http_methods(["GET", "HEAD"])
def latest_url(request):
    """Just the download URL, as text: what the C SDK asks for (memfault-formats.md 2.3)."""
    return device_api.answer(request, as_url=True)


@require_http_methods(["GET", "HEAD"])
def download(request, token: str):
    """An artifact's bytes, for whoever holds a URL that has not expired."""
    try:
        artifact = artifact_from_token(token)
        presigned = artifact_presigned_url(artifact)
        if presigned:  # a dre URL handed out before the store moved to S3 still works
            return HttpResponseRedirect(presigned)
        handle = blobs.blob_open(artifact.blob)
    except DownloadRefused as exc:
        return error(403, str(exc))
    except DatabaseError:
        return error(503, "the release database is unavailable", {"Retry-After": "30"})
    return FileResponse(
        handle,
        as_attachment=True,
        filename=artifact.filename,
        content_type="application/octet-stream",
    )

"""The JSON shapes memfault's clients read: the release of `releases/latest`
(memfault-formats.md 4.3, fields of the Android SDK's parser) and the deployments
memfault-cli lists (3.5, 4.1)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from dre.releases.models import Artifact, Deployment, Release


def release_json(release: Release, artifact: Artifact, url: str) -> dict:
    return {
        "id": release.pk,
        "version": release.version.version,
        "notes": release.notes,
        "is_delta": release.is_delta,
        "is_forced": None,
        "must_pass_through": release.must_pass_through,
        "min_version": release.min_version,
        "revision": release.revision,
        "extra_info": release.extra_info or None,
        "created_date": release.created.isoformat(),
        "updated_date": release.updated.isoformat(),
        "artifacts": [artifact_json(artifact, url)],
    }


# Where the download URL goes in release_json_parts: the URL is the last value of
# the release JSON, so the last occurrence of the mark is its place whatever the
# notes hold.
URL_MARK = "\0url\0"


def release_json_parts(release: Release, artifact: Artifact) -> tuple[bytes, bytes]:
    """`release_json` as JsonResponse writes it, split where the URL goes: the URL is
    signed per second, the rest is the same for every device offered the release,
    so `releases/latest` renders it once per generation, not per request."""
    text = json.dumps(release_json(release, artifact, URL_MARK), cls=DjangoJSONEncoder)
    before, _, after = text.rpartition(json.dumps(URL_MARK))
    return before.encode(), after.encode()


def release_json_body(parts: tuple[bytes, bytes], url: str) -> bytes:
    return parts[0] + json.dumps(url).encode() + parts[1]


def artifact_json(artifact: Artifact, url: str | None = None) -> dict:
    data = {
        "id": artifact.pk,
        "type": "firmware",
        "filename": artifact.filename,
        "hardware_version": artifact.hardware_version.name,
        "file_size": artifact.size,
        "md5": artifact.md5,
        "sha256": artifact.sha256,
        "firmware_type": artifact.firmware_type,
        "extra_info": artifact.extra_info or None,
        "created_date": artifact.created.isoformat(),
        "updated_date": artifact.created.isoformat(),
    }
    if url is not None:
        data["url"] = url
    return data


def deployment_status(deployment: Deployment) -> str:
    """Memfault's status word: memfault-cli deactivates only `in_progress` or `done`,
    so every live deployment (paused and halted too) answers one of them."""
    if deployment.status == Deployment.Status.PULLED:
        return "pulled"
    return "done" if deployment.rollout_percent == 100 else "in_progress"


def deployment_json(deployment: Deployment) -> dict:
    release = deployment.release
    return {
        "id": deployment.pk,
        "type": deployment.type,
        "status": deployment_status(deployment),
        "state": deployment.status,
        "rollout_percent": deployment.rollout_percent,
        "created_date": deployment.created.isoformat(),
        "updated_date": deployment.updated.isoformat(),
        "deployed_date": deployment.created.isoformat(),
        "release": {
            "id": release.pk,
            "version": release.version.version,
            "delta_from": release.delta_from.version if release.delta_from_id else None,
            "revision": release.revision,
        },
        "cohort": {
            "id": deployment.cohort_id,
            "slug": deployment.cohort.slug,
            "name": deployment.cohort.name,
        },
    }

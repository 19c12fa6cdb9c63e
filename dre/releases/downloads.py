"""Signed, expiring download URLs for artifacts.

Devices download without their project key (memfault-formats.md 2.3, "Payload
download"), so the URL carries its own authorization. With blobs in S3 (or an
S3-compatible store) it is the store's presigned URL: the device fetches the bytes
from the store, not through dre, as Memfault's CDN URLs do. Otherwise it is dre's
own URL: the artifact id signed with SECRET_KEY and a timestamp. Both expire after
OTA_DOWNLOAD_URL_TTL_SECONDS.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse

from dre.releases.models import Artifact

SALT = "dre.releases.artifact-download"


class DownloadRefused(Exception):
    pass


# The signature names its second (TimestampSigner), so within one second every
# device offered an artifact gets the same path: this process signs (an HMAC) and
# reverses (a walk of the URLconf) it once per artifact and second, not per request.
_signed: dict[int, tuple[int, str]] = {}
MAX_SIGNED = 10_000


def artifact_download_path(artifact: Artifact) -> str:
    second = int(time.time())
    known = _signed.get(artifact.pk)
    if known is not None and known[0] == second:
        return known[1]
    token = signing.TimestampSigner(salt=SALT).sign(str(artifact.pk))
    path = reverse("ota-download", args=[token])
    if len(_signed) >= MAX_SIGNED:
        _signed.clear()
    _signed[artifact.pk] = (second, path)
    return path


def artifact_download_url(artifact: Artifact, base_url: str) -> str:
    """The URL handed to a device: presigned by the store when it can, else dre's
    signed path under `base_url` (scheme and host, no trailing slash)."""
    return artifact_presigned_url(artifact) or base_url + artifact_download_path(artifact)


def artifact_presigned_url(artifact: Artifact) -> str | None:
    """The store's presigned GET URL, or None for a store that cannot presign (local
    files). The object name stays private: the download is named as uploaded."""
    if not getattr(default_storage, "querystring_auth", False):
        return None
    disposition = f'attachment; filename="{_quoted(artifact.filename)}"'
    return default_storage.url(
        artifact.blob,
        parameters={"ResponseContentDisposition": disposition},
        expire=settings.OTA_DOWNLOAD_URL_TTL_SECONDS,
    )


def _quoted(filename: str) -> str:
    return "".join(c for c in filename if c.isprintable() and c not in '"\\')


def artifact_from_token(token: str) -> Artifact:
    signer = signing.TimestampSigner(salt=SALT)
    try:
        pk = signer.unsign(token, max_age=settings.OTA_DOWNLOAD_URL_TTL_SECONDS)
    except signing.SignatureExpired:
        raise DownloadRefused("this download URL has expired; ask for the release again") from None
    except signing.BadSignature:
        raise DownloadRefused("this download URL is not valid") from None
    artifact = Artifact.objects.filter(pk=int(pk)).first()
    if artifact is None:
        raise DownloadRefused("this artifact was deleted")
    return artifact

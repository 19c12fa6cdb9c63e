"""Signed, expiring download URLs for artifacts.

Devices download without their project key (memfault-formats.md 2.3, "Payload
download"), so the URL carries its own authorization: the artifact id signed
with SECRET_KEY and a timestamp, refused after OTA_DOWNLOAD_URL_TTL_SECONDS.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from dre.releases.models import Artifact

SALT = "dre.releases.artifact-download"


class DownloadRefused(Exception):
    pass


def artifact_download_path(artifact: Artifact) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(artifact.pk))
    return reverse("ota-download", args=[token])


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

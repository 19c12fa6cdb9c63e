"""memfault-cli's prepared uploads: prepare, one-time PUT, commit.

memfault-formats.md 3.2: the CLI asks for an upload URL and a token, PUTs
the file to the URL with no authentication, then commits the token to the
endpoint of the file's kind. The URL's secret is the token itself, stored
hashed like every other secret.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dre import blobs
from dre.accounts import secrets
from dre.accounts.models import Project
from dre.ingest.models import Upload


class UploadError(Exception):
    status = 400


class UploadTooLarge(UploadError):
    status = 413


class UploadNotFound(UploadError):
    status = 404


class UploadConflict(UploadError):
    status = 409


def size_limit(kind: str) -> int:
    if kind == Upload.Kind.SYMBOL_FILE:
        return settings.MAX_SYMBOL_FILE_BYTES
    return settings.MAX_COREDUMP_BYTES


def upload_prepare(project: Project, kind: str, size: int | None) -> tuple[Upload, str]:
    if kind not in Upload.Kind.values:
        raise UploadError(f"dre does not accept {kind!r} uploads; it takes {Upload.Kind.values}")
    if size is not None and size > size_limit(kind):
        raise UploadTooLarge(f"Uploaded file is too big: {size} bytes, limit {size_limit(kind)}")
    token = secrets.new_upload_secret()
    upload = Upload.objects.create(
        project=project,
        kind=kind,
        declared_size=size,
        digest=secrets.digest(token),
        expires=timezone.now() + timedelta(seconds=settings.UPLOAD_URL_TTL_SECONDS),
    )
    return upload, token


def upload_receive(token: str, stream) -> Upload:
    """Store the body of the one-time PUT."""
    upload = _pending(token)
    name = blobs.blob_name(_blob_kind(upload.kind), upload.project_id, ".bin")
    try:
        stored = blobs.blob_save_stream(name, stream, size_limit(upload.kind))
    except blobs.TooLarge as exc:
        raise UploadTooLarge(f"Uploaded file is too big: {exc}") from exc
    claimed = Upload.objects.filter(pk=upload.pk, state=Upload.State.PENDING).update(
        state=Upload.State.UPLOADED, blob=stored.name, size=stored.size, md5=stored.md5
    )
    if claimed != 1:
        blobs.blob_delete(stored.name)
        raise UploadConflict("this upload URL was already used")
    upload.refresh_from_db()
    return upload


def _pending(token: str) -> Upload:
    upload = Upload.objects.filter(digest=secrets.digest(token)).first()
    if upload is None or upload.expires < timezone.now():
        raise UploadNotFound("unknown or expired upload URL")
    if upload.state != Upload.State.PENDING:
        raise UploadConflict("this upload URL was already used")
    return upload


def _blob_kind(kind: str) -> str:
    return "symbols" if kind == Upload.Kind.SYMBOL_FILE else "coredumps"


@transaction.atomic
def upload_commit(project: Project, kind: str, file_info: dict) -> blobs.StoredBlob:
    """Consume an uploaded file's token once; return the stored blob."""
    if file_info is not None and not isinstance(file_info, dict):
        raise UploadError("file must be an object with the token from the prepare call")
    token = (file_info or {}).get("token")
    if not isinstance(token, str) or not token:
        raise UploadError("the commit needs file.token from the prepare call")
    upload = Upload.objects.select_for_update().filter(digest=secrets.digest(token)).first()
    if upload is None or upload.project_id != project.pk:
        raise UploadNotFound("unknown upload token for this project")
    md5 = file_info.get("md5")
    if md5 is not None and not isinstance(md5, str):
        raise UploadError("file.md5 must be a string of hex digits")
    if upload.kind != kind:
        raise UploadError(f"this token was prepared for a {upload.kind} upload, not {kind}")
    if upload.state == Upload.State.PENDING:
        raise UploadError("no file was PUT to this token's upload URL")
    if upload.state == Upload.State.COMMITTED:
        raise UploadConflict("this upload was already committed")
    if md5 and md5.lower() != upload.md5:
        raise UploadError(f"md5 {md5} does not match the uploaded file's {upload.md5}")
    Upload.objects.filter(pk=upload.pk).update(state=Upload.State.COMMITTED)
    return blobs.StoredBlob(upload.blob, upload.size, upload.md5)

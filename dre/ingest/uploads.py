"""memfault-cli's prepared uploads: prepare, one-time PUT, commit.

memfault-formats.md 3.2: the CLI asks for an upload URL and a token, PUTs
the file to the URL with no authentication, then commits the token to the
endpoint of the file's kind. The URL's secret is the token itself, stored
hashed like every other secret.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dre import blobs
from dre.accounts import secrets
from dre.accounts.models import Project
from dre.ingest.models import Upload, UploadPart

# S3 allows 10,000 parts; memfault-cli splits the file evenly across the URLs it gets.
MAX_PARTS = 10_000
# memfault-cli's completion body: <Part><PartNumber>n</PartNumber><ETag>"…"</ETag></Part>…
COMPLETED_PART = re.compile(r"<Part><PartNumber>(\d+)</PartNumber><ETag>([^<]*)</ETag></Part>")
MAX_COMPLETION_BYTES = 1024 * 1024


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
    if kind == Upload.Kind.OTA_PAYLOAD:
        return settings.MAX_OTA_PAYLOAD_BYTES
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
    return {Upload.Kind.SYMBOL_FILE: "symbols", Upload.Kind.OTA_PAYLOAD: "ota"}.get(
        kind, "coredumps"
    )


def upload_prepare_multipart(project: Project, kind: str, size: int | None) -> tuple[str, int]:
    """A token and how many parts of about OTA_UPLOAD_PART_BYTES the file is PUT in."""
    if kind != Upload.Kind.OTA_PAYLOAD:
        raise UploadError(f"only {Upload.Kind.OTA_PAYLOAD} uploads come in parts, not {kind!r}")
    if size is None or size < 0:
        raise UploadError("a multipart upload needs the file's size")
    _, token = upload_prepare(project, kind, size)
    part_bytes = max(settings.OTA_UPLOAD_PART_BYTES, 1)
    return token, min(MAX_PARTS, max(1, math.ceil(size / part_bytes)))


def upload_receive_part(token: str, number: int, stream) -> str:
    """Store one part; its ETag (the quoted MD5, as S3 answers) goes back to the client."""
    upload = _pending(token)
    if not 1 <= number <= MAX_PARTS:
        raise UploadError(f"part number {number} is not between 1 and {MAX_PARTS}")
    name = blobs.blob_name(_blob_kind(upload.kind), upload.project_id, f".part{number}")
    try:
        stored = blobs.blob_save_stream(name, stream, size_limit(upload.kind))
    except blobs.TooLarge as exc:
        raise UploadTooLarge(f"Uploaded file is too big: {exc}") from exc
    with transaction.atomic():
        # A part sent again (a client retry) replaces the earlier one, as on S3.
        earlier = UploadPart.objects.select_for_update().filter(upload=upload, number=number)
        for old in earlier:
            transaction.on_commit(lambda blob=old.blob: blobs.blob_delete(blob))
        earlier.delete()
        UploadPart.objects.create(
            upload=upload, number=number, blob=stored.name, size=stored.size, md5=stored.md5
        )
    return f'"{stored.md5}"'


def upload_complete(token: str, body: bytes) -> Upload:
    """Join the parts the completion body lists, in order, into the upload's one blob."""
    upload = _pending(token)
    listed = [
        (int(n), etag.strip('"'))
        for n, etag in COMPLETED_PART.findall(body.decode(errors="replace"))
    ]
    parts = list(upload.parts.order_by("number"))
    if not listed or [n for n, _ in listed] != list(range(1, len(listed) + 1)):
        raise UploadError("the completion must list parts 1, 2, … in order")
    if [(p.number, p.md5) for p in parts] != listed:
        raise UploadError("the completion's parts and ETags do not match the parts received")
    name = blobs.blob_name(_blob_kind(upload.kind), upload.project_id, ".bin")
    stored = blobs.blob_save_stream(name, _Joined(parts), size_limit(upload.kind))
    claimed = Upload.objects.filter(pk=upload.pk, state=Upload.State.PENDING).update(
        state=Upload.State.UPLOADED, blob=stored.name, size=stored.size, md5=stored.md5
    )
    if claimed != 1:
        blobs.blob_delete(stored.name)
        raise UploadConflict("this upload was already completed")
    for part in parts:
        blobs.blob_delete(part.blob)
    upload.parts.all().delete()
    upload.refresh_from_db()
    return upload


class _Joined:
    """The parts' blobs read one after another, as one file-like stream."""

    def __init__(self, parts: list[UploadPart]):
        self._names = [p.blob for p in parts]
        self._current = None

    def read(self, size: int = -1) -> bytes:
        while True:
            if self._current is None:
                if not self._names:
                    return b""
                self._current = blobs.blob_open(self._names.pop(0))
            data = self._current.read(size)
            if data:
                return data
            self._current.close()
            self._current = None


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

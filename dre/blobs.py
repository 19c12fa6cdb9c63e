"""Raw uploads and derived files, stored through Django's storage API.

Blobs are written once and never rewritten: a coredump or symbol file is kept
exactly as it arrived, so it can always be processed again.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.utils import timezone

COPY_CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    name: str
    size: int
    md5: str


def blob_name(kind: str, project_id: int, suffix: str) -> str:
    now = timezone.now()
    return f"{kind}/{project_id}/{now:%Y/%m/%d}/{uuid.uuid4().hex}{suffix}"


def blob_save_bytes(name: str, data: bytes) -> StoredBlob:
    stored = default_storage.save(name, ContentFile(data))
    return StoredBlob(stored, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"body is larger than the limit of {limit} bytes")
        self.limit = limit


def blob_save_stream(name: str, stream, limit: int) -> StoredBlob:
    """Copy a file-like object to storage, refusing more than `limit` bytes.

    The body is spooled (in memory, then on disk past SPOOL_IN_MEMORY) before it
    is handed over, because storage backends such as S3 want a seekable file
    while a request body can only be read once.
    """
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        while data := stream.read(COPY_CHUNK):
            size += len(data)
            if size > limit:
                raise TooLarge(limit)
            digest.update(data)
            spool.write(data)
        spool.seek(0)
        stored = default_storage.save(name, File(spool, name=name))
    return StoredBlob(stored, size, digest.hexdigest())


def blob_read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def blob_delete(name: str) -> None:
    default_storage.delete(name)


def blob_open(name: str):
    return default_storage.open(name, "rb")

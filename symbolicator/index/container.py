"""A small versioned container of named binary sections.

The symbol index is built once per ELF in a worker, stored as a blob and
loaded by every symbolication, so loading must be cheap: a JSON header names
the sections, and each section is raw bytes that `array` can adopt without
parsing.

Layout: magic (8 bytes), header length (u32 LE), header (JSON: format
version, metadata, section names with offset and length), then the sections
back to back.
"""

from __future__ import annotations

import json
import struct
from array import array

from symbolicator.errors import SymbolicatorError

MAGIC = b"DREIDX\x00\x01"
LENGTH = struct.Struct("<I")


class IndexFormatError(SymbolicatorError):
    """A stored index is corrupt or from an incompatible version."""


def pack(meta: dict, sections: dict[str, bytes]) -> bytes:
    layout, offset = {}, 0
    for name, blob in sections.items():
        layout[name] = [offset, len(blob)]
        offset += len(blob)
    header = json.dumps({"meta": meta, "sections": layout}, sort_keys=True).encode()
    return MAGIC + LENGTH.pack(len(header)) + header + b"".join(sections.values())


def unpack(blob: bytes) -> tuple[dict, dict[str, memoryview]]:
    if blob[: len(MAGIC)] != MAGIC:
        raise IndexFormatError("not a dre symbol index, or one from an incompatible version")
    (header_length,) = LENGTH.unpack_from(blob, len(MAGIC))
    body_at = len(MAGIC) + LENGTH.size + header_length
    try:
        header = json.loads(blob[len(MAGIC) + LENGTH.size : body_at])
    except ValueError as exc:
        raise IndexFormatError(f"symbol index header is corrupt: {exc}") from exc
    view = memoryview(blob)
    sections = {
        name: view[body_at + offset : body_at + offset + length]
        for name, (offset, length) in header["sections"].items()
    }
    return header["meta"], sections


def u32_array(values) -> bytes:
    return array("I", values).tobytes()


def as_u32_array(view: memoryview) -> array:
    out = array("I")
    out.frombytes(view)
    return out


class StringTable:
    """Interned strings stored as one NUL-separated blob, referenced by index."""

    def __init__(self, strings: list[str] | None = None):
        self.strings: list[str] = strings or []
        self._ids = {s: i for i, s in enumerate(self.strings)}

    def intern(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = len(self.strings)
            self.strings.append(text)
        return found

    def to_bytes(self) -> bytes:
        return "\x00".join(self.strings).encode()

    @classmethod
    def from_bytes(cls, view: memoryview) -> StringTable:
        data = bytes(view)
        return cls(data.decode().split("\x00") if data else [])

    def __getitem__(self, index: int) -> str:
        return self.strings[index]

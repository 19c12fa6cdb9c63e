"""Chunks exported as text on a device console (reference §2.2, "Text export").

`memfault_data_export_dump_chunks()` prints each chunk as `MC:<base64 of the chunk>:`,
usually inside ordinary log lines, so lines are searched rather than parsed whole.
"""

import base64
import binascii
import re

from .errors import ChunkError

# memfault-cli matches MC:([a-zA-z0-9+/=]+): -- its A-z also spans [\]^_` by accident;
# only the base64 alphabet is accepted here.
_EXPORTED_CHUNK = re.compile(r"MC:([A-Za-z0-9+/=]+):")


def chunks_from_console(text: str) -> list[bytes]:
    """Return the chunks exported in `text`, in the order they appear."""
    chunks = []
    for match in _EXPORTED_CHUNK.finditer(text):
        try:
            chunks.append(base64.b64decode(match.group(1), validate=True))
        except binascii.Error as exc:
            raise ChunkError(f"exported chunk at character {match.start()}: {exc}") from exc
    return chunks


def console_line(chunk: bytes) -> str:
    """Format one chunk as the SDK prints it."""
    return f"MC:{base64.b64encode(chunk).decode('ascii')}:"

"""The packetizer message: what a device's chunks reassemble into (reference §2.1).

    [type header][project key, if bit 6][payload, RLE-encoded if bit 7]

Header bits 0-5 carry the message type, bit 6 says a project key follows, bit 7 says the
payload is RLE-encoded. RLE never covers the header or the key.
"""

from dataclasses import dataclass
from enum import IntEnum

from .errors import MessageError, UnknownMessageType
from .rle import rle_decode, rle_encode

TYPE_MASK = 0x3F
PROJECT_KEY_FLAG = 0x40
RLE_FLAG = 0x80

# The SDK sends sizeof(MEMFAULT_PROJECT_KEY): the 32-character key and its NUL terminator.
PROJECT_KEY_FIELD_SIZE = 33


class MessageType(IntEnum):
    COREDUMP = 1
    EVENT = 2
    LOG = 3
    CDR = 4  # custom data recording


@dataclass(frozen=True)
class Message:
    type: MessageType
    payload: bytes  # with the RLE already undone
    project_key: str | None = None
    rle: bool = False  # whether the payload was RLE-encoded on the wire
    sent_payload: bytes = b""  # the payload as it was on the wire (compact when RLE)


def parse_message(data: bytes, *, max_payload_size: int) -> Message:
    """Parse a reassembled message; an RLE payload may not expand beyond `max_payload_size`."""
    if not data:
        raise MessageError("the message is empty")
    header = data[0]
    try:
        message_type = MessageType(header & TYPE_MASK)
    except ValueError:
        raise UnknownMessageType(header & TYPE_MASK, data) from None
    project_key, start = None, 1
    if header & PROJECT_KEY_FLAG:
        project_key, start = _read_project_key(data), 1 + PROJECT_KEY_FIELD_SIZE
    sent = payload = data[start:]
    rle = bool(header & RLE_FLAG)
    if rle:
        payload = rle_decode(sent, max_output=max_payload_size)
    elif len(payload) > max_payload_size:
        raise MessageError(f"payload of {len(payload)} bytes exceeds {max_payload_size} bytes")
    return Message(message_type, payload, project_key, rle, sent)


def _read_project_key(data: bytes) -> str:
    # Only 32-character keys (every Memfault-style key) can be framed: the field has no
    # length, so a key of another length would shift the payload. Require the NUL to catch it.
    field = data[1 : 1 + PROJECT_KEY_FIELD_SIZE]
    if len(field) < PROJECT_KEY_FIELD_SIZE:
        raise MessageError(f"message ends inside the {PROJECT_KEY_FIELD_SIZE}-byte project key")
    if field[-1] != 0 or 0 in field[:-1]:
        raise MessageError("project key in the message header is not 32 characters and a NUL")
    try:
        return field[:-1].decode("ascii")
    except UnicodeDecodeError:
        raise MessageError("project key in the message header is not ASCII") from None


def encode_message(
    message_type: MessageType, payload: bytes, *, rle: bool = False, project_key: str | None = None
) -> bytes:
    """Build a message as the SDK's packetizer does (for tests and demo data)."""
    header = message_type | (RLE_FLAG if rle else 0)
    key_field = b""
    if project_key is not None:
        key_field = project_key.encode("ascii") + b"\0"
        if len(key_field) != PROJECT_KEY_FIELD_SIZE:
            raise ValueError("a project key in the message header must be 32 characters")
        header |= PROJECT_KEY_FLAG
    return bytes([header]) + key_field + (rle_encode(payload) if rle else payload)

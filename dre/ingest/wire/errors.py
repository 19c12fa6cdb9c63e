"""Errors raised while decoding device data. Each message names what was wrong and where."""


class WireError(Exception):
    """Base class: the bytes a device sent cannot be decoded."""


class VarintError(WireError):
    """A LEB128 varint is truncated, too long for 32 bits, or not minimally encoded."""


class ChunkError(WireError):
    """A chunk's header or framing is malformed (reference §2.2)."""


class RleError(WireError):
    """An RLE-encoded payload is malformed (reference §2.1)."""


class RleExpansionLimit(RleError):
    """Decoding would produce more bytes than the caller allows."""

    def __init__(self, limit: int, offset: int):
        super().__init__(
            f"RLE payload expands beyond the limit of {limit} bytes (record at offset {offset})"
        )
        self.limit = limit


class MessageError(WireError):
    """A packetizer message is malformed (reference §2.1)."""


class UnknownMessageType(MessageError):
    """The message type in the header byte is not one we know. `data` keeps the whole message."""

    def __init__(self, type_id: int, data: bytes):
        super().__init__(f"unknown message type {type_id} (header byte 0x{data[0]:02x})")
        self.type_id = type_id
        self.data = data


class EventError(WireError):
    """A CBOR event payload is malformed or does not have the shape of §2.4-2.5."""

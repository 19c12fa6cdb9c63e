"""The SDK's run-length encoding of message payloads, mostly coredumps (reference §2.1).

The stream is a sequence of records, each a ZigZag varint n followed by data:
n > 0: one byte, repeated n times; n < 0: |n| literal bytes.
"""

from .errors import RleError, RleExpansionLimit
from .varint import decode_svarint, encode_svarint


def rle_decode(data: bytes, *, max_output: int) -> bytes:
    """Undo the RLE of `data`, refusing to produce more than `max_output` bytes.

    The bound matters because a 3-byte record can claim a run of 2**31 bytes.
    """
    out = bytearray()
    position = 0
    while position < len(data):
        start = position
        count, position = decode_svarint(data, position)
        if count == 0:
            raise RleError(f"RLE record at offset {start} has a zero length")
        if len(out) + abs(count) > max_output:
            raise RleExpansionLimit(max_output, start)
        width = 1 if count > 0 else -count
        piece = data[position : position + width]
        if len(piece) != width:
            raise RleError(f"RLE record at offset {start} is truncated")
        out += piece * count if count > 0 else piece
        position += width
    return bytes(out)


def rle_encode(data: bytes) -> bytes:
    """Encode `data` exactly as the SDK does, so tests and demo data match real devices.

    The rule, inferred from the SDK's unit-test vectors: between records a run of 2 or more
    equal bytes becomes a repeat record; once a literal record has started, only a run of 3
    or more ends it, and shorter runs are kept inside the literal.
    """
    out = bytearray()
    literal_start: int | None = None
    position = 0
    while position < len(data):
        run = _run_length(data, position)
        if run >= (2 if literal_start is None else 3):
            if literal_start is not None:
                out += _literal_record(data[literal_start:position])
                literal_start = None
            out += encode_svarint(run) + data[position : position + 1]
        elif literal_start is None:
            literal_start = position
            run = 1
        position += run
    if literal_start is not None:
        out += _literal_record(data[literal_start:])
    return bytes(out)


def _run_length(data: bytes, position: int) -> int:
    end = position + 1
    while end < len(data) and data[end] == data[position]:
        end += 1
    return end - position


def _literal_record(literal: bytes) -> bytes:
    return encode_svarint(-len(literal)) + literal

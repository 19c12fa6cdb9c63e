"""One-dimensional arrays in PostgreSQL's binary wire format, for ArrayInsert (dre/sql.py).

psycopg adapts a Python list element by element in Python: it looks for the first
non-null element to pick a dumper, then dumps each element through it. For the
arrays group commit sends (a few columns of a few rows, in every device request's
statement) that was about a quarter of the leader's CPU. The column types are known
when the statement is built, so each array is encoded here in one pass instead, and
handed to psycopg as bytes it sends untouched (bench/results, "Coredumps compressed
before the INSERT, arrays encoded once").

The format is array_recv's (src/backend/utils/adt/arrayfuncs.c): the number of
dimensions, a has-nulls flag and the element type's oid, then each dimension's
length and lower bound, then each element as its length (-1 for NULL) followed by
the element type's own binary form (its typsend: big-endian integers, text in the
connection's encoding, which Django sets to UTF-8; timestamps in microseconds
since 2000-01-01 UTC).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct("!iiiii")  # ndim, has nulls, element oid, length, lower bound
_LENGTH = struct.Struct("!i")
_INT2, _INT4, _INT8 = struct.Struct("!h"), struct.Struct("!i"), struct.Struct("!q")
_NULL = _LENGTH.pack(-1)
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _timestamptz(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value} has no time zone")
    return _INT8.pack((value - _POSTGRES_EPOCH) // _MICROSECOND)


def _text(value: str) -> bytes:
    return value.encode()


class ArrayBytes(bytes):
    """An encoded array; each subclass names its array type's oid (`array_oid`)."""

    array_oid = 0


class _ArrayDumper(Dumper):
    """Sends an ArrayBytes as it is, typed by its class (psycopg makes one dumper per
    class of value it meets)."""

    format = Format.BINARY

    def __init__(self, cls: type[ArrayBytes], context=None):
        super().__init__(cls, context)
        self.oid = cls.array_oid

    def dump(self, obj: ArrayBytes) -> bytes:
        return obj


class ElementType:
    """How one column type's elements are encoded, and its array class."""

    def __init__(self, name: str, oid: int, array_oid: int, encode: Callable[[object], bytes]):
        self.oid, self.encode = oid, encode
        self.array = type(f"{name}_array", (ArrayBytes,), {"array_oid": array_oid})

    def array_of(self, values) -> ArrayBytes:
        parts, nulls, encode = [b""], 0, self.encode
        for value in values:
            if value is None:
                parts.append(_NULL)
                nulls = 1
            else:
                data = encode(value)
                parts.append(_LENGTH.pack(len(data)))
                parts.append(data)
        parts[0] = _HEADER.pack(1, nulls, self.oid, len(values), 1)
        return self.array(b"".join(parts))


# Keyed by Django's db_type, its length (varchar(128)) left out; oids from pg_type.dat.
ELEMENT_TYPES = {
    "smallint": ElementType("int2", 21, 1005, _INT2.pack),
    "integer": ElementType("int4", 23, 1007, _INT4.pack),
    "bigint": ElementType("int8", 20, 1016, _INT8.pack),
    "boolean": ElementType("bool", 16, 1000, lambda value: b"\x01" if value else b"\x00"),
    "varchar": ElementType("varchar", 1043, 1015, _text),
    "text": ElementType("text", 25, 1009, _text),
    "bytea": ElementType("bytea", 17, 1001, bytes),
    "timestamp with time zone": ElementType("timestamptz", 1184, 1185, _timestamptz),
}


def element_type(db_type: str) -> ElementType:
    """The ElementType of a column of this db_type (Django's name for it)."""
    try:
        return ELEMENT_TYPES[db_type.split("(")[0]]
    except KeyError:
        raise ValueError(f"no binary array encoding for a column of type {db_type}") from None


def arrays_register(psycopg_connection) -> None:
    """Let this connection send ArrayBytes (once per connection)."""
    psycopg_connection.adapters.register_dumper(ArrayBytes, _ArrayDumper)

"""dre/pg_arrays.py: arrays encoded in PostgreSQL's binary format read back as sent."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from dre import pg_arrays
from dre.sql import _binary_cursor

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's wire format"),
]


def round_trip(db_type: str, values: list):
    element = pg_arrays.element_type(db_type)
    with _binary_cursor(connection) as cursor:
        cursor.execute(f"SELECT %b::{db_type}[]", [element.array_of(values)])
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("db_type", "values"),
    [
        ("smallint", [0, -32768, 32767]),
        ("integer", [1, -(2**31), 2**31 - 1]),
        ("bigint", [7, None, -(2**63), 2**63 - 1]),
        ("boolean", [True, False, None]),
        ("varchar(128)", ["BENCH0001", "", "Zähler ✓", None]),
        ("text", ["a\nb", "\x7f"]),
        ("bytea", [b"", b"\x00\xff" * 4096, None]),
    ],
)
def test_each_element_type_reads_back_as_sent(db_type, values):
    assert round_trip(db_type, values) == values


def test_timestamps_keep_their_instant_to_the_microsecond():
    values = [
        datetime(2026, 12, 5, 9, 30, 1, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
    ]

    assert round_trip("timestamp with time zone", values) == values


def test_a_timestamp_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="has no time zone"):
        pg_arrays.element_type("timestamp with time zone").array_of([datetime(2026, 1, 1)])


def test_a_type_it_does_not_encode_is_refused_by_name():
    with pytest.raises(ValueError, match="no binary array encoding for a column of type jsonb"):
        pg_arrays.element_type("jsonb")

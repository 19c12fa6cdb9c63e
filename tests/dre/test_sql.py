"""dre/sql.py's ArrayInsert: group commit's one INSERT for any number of rows."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from dre.crashes.models import Coredump
from dre.ingest.models import PendingChunks
from dre.sql import ArrayInsert

pytestmark = pytest.mark.django_db

QUEUED = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def test_it_inserts_the_rows_and_returns_their_ids_in_the_rows_order(project):
    insert = ArrayInsert(PendingChunks, ["project_id", "device_serial", "chunks"])
    rows = [(project.pk, f"DEV{n}", bytes([n]) * (n + 1)) for n in range(5)]

    ids = insert(rows)

    stored = {row.pk: row for row in PendingChunks.objects.filter(pk__in=ids)}
    assert [(project.pk, stored[i].device_serial, bytes(stored[i].chunks)) for i in ids] == rows


def test_the_other_columns_take_the_constants_given_else_the_fields_defaults(project):
    insert = ArrayInsert(
        Coredump,
        ["project_id", "raw", "size", "md5", "source"],
        queued=lambda: QUEUED,
    )

    (coredump_id,) = insert([(project.pk, b"CORE", 4, "0" * 32, "upload")])

    coredump = Coredump.objects.get(pk=coredump_id)
    assert coredump.queued == QUEUED
    assert (coredump.state, coredump.attempts, coredump.error) == ("received", 0, "")
    assert coredump.device is None
    assert coredump.received is not None


def test_a_callable_constant_is_called_for_each_statement_the_others_adapted_once(project):
    moments = iter([QUEUED, QUEUED.replace(hour=10)])
    insert = ArrayInsert(PendingChunks, ["device_serial", "chunks"], project_id=project.pk,
                         queued=lambda: next(moments))  # fmt: skip

    first, second = insert([("DEV", b"x")]), insert([("DEV", b"y")])

    stored = PendingChunks.objects.filter(pk__in=first + second).order_by("pk")
    assert [(row.project_id, row.queued.hour) for row in stored] == [
        (project.pk, 9),
        (project.pk, 10),
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (development) takes bulk_create's"
)
def test_one_statement_text_serves_every_number_of_rows(project, django_assert_num_queries):
    insert = ArrayInsert(PendingChunks, ["project_id", "device_serial", "chunks"])
    statements = []
    for count in (1, 3, 7):
        with django_assert_num_queries(1) as captured:
            insert([(project.pk, "DEV", b"x")] * count)
        statements += [query["sql"] for query in captured.captured_queries]

    assert len(set(statements)) == 1

"""SQL that Django's ORM does not write: UPDATE ... RETURNING.

A conditional UPDATE that also reads back what it wrote saves the round trip of
a SELECT (and, for a claim, the SELECT ... FOR UPDATE and the transaction around
it). PostgreSQL and SQLite 3.35+ both support RETURNING.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import sql


def update_returning(queryset, returning: list[str], **changes) -> list[tuple]:
    """UPDATE the rows of `queryset` with `changes` (values or expressions, as
    `QuerySet.update` takes them); return the `returning` columns of each updated
    row, as stored after the update.

    The UPDATE is Django's own (values adapted by their fields); only the
    RETURNING clause is added. For a queryset of plain column filters on one table.
    """
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(changes)
    connection = connections[queryset.db]
    statement, params = query.get_compiler(queryset.db).as_sql()
    meta = queryset.model._meta
    columns = ", ".join(
        connection.ops.quote_name(meta.get_field(name).column) for name in returning
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {columns}", params)
        return cursor.fetchall()

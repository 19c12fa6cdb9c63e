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


def insert_many(objects: list) -> list:
    """INSERT unsaved instances of one model in one statement and set their primary
    keys from its RETURNING clause; return them.

    What `bulk_create` does without its per-call compiler and transaction: in
    autocommit the one statement is its own transaction (no BEGIN and COMMIT round
    trips). Group commit (dre/batching.py) writes each group with it, so its cost
    per row is a few adapted values. Every concrete field but the primary key is
    written as the instance holds it: defaults must be set, as Model() sets them.
    """
    model = type(objects[0])
    meta = model._meta
    connection = connections[router_db(model)]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(objects))} RETURNING {quote(meta.pk.column)}"
    )
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objects
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        ids = [found for (found,) in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def router_db(model) -> str:
    from django.db import router

    return router.db_for_write(model)

"""SQL that Django's ORM does not write: UPDATE ... RETURNING, and counters added by
INSERT ... ON CONFLICT DO UPDATE.

A conditional UPDATE that also reads back what it wrote saves the round trip of
a SELECT (and, for a claim, the SELECT ... FOR UPDATE and the transaction around
it). PostgreSQL and SQLite 3.35+ both support RETURNING.
"""

from __future__ import annotations

import json
import weakref
from datetime import date, datetime
from typing import NamedTuple

from django.db import connections
from django.db.models import sql

from dre import pg_arrays


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


def upsert_add(
    model,
    rows: list[dict],
    key: list[str],
    add: list[str],
    greatest: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
) -> list[tuple]:
    """INSERT `rows` (dicts of field attnames to values) into `model`'s table; where a
    row with the same `key` exists (a unique constraint on exactly those fields), add
    the `add` columns to its own and keep the greatest of the `greatest` columns.
    Return the `returning` columns of each row written, as stored after it.

    One statement for any number of rows, where get_or_create and an UPDATE take two
    to five per row; and safe under concurrent writers, which the unique index orders.
    """
    connection = connections[router_db(model)]
    quote, table = connection.ops.quote_name, connection.ops.quote_name(model._meta.db_table)
    biggest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    changes = [
        f"{quote(c)} = {table}.{quote(c)} + EXCLUDED.{quote(c)}" for c in _columns(model, add)
    ]
    changes += [
        f"{quote(c)} = {biggest}({table}.{quote(c)}, EXCLUDED.{quote(c)})"
        for c in _columns(model, greatest)
    ]
    return insert_rows(model, rows, conflict=key, changes=changes, returning=returning)


def insert_rows(
    model, rows: list[dict], *, conflict: list[str], changes: list[str], returning=()
) -> list[tuple]:
    """`INSERT INTO ... VALUES (...), (...) ON CONFLICT (conflict) DO UPDATE SET changes
    [RETURNING returning]`: one statement, values adapted by their fields. `rows` are
    dicts of field attnames to values, every NOT NULL column given.

    Not bulk_create: on PostgreSQL, Django 5.2 sends several rows as one array per
    column (UNNEST), and psycopg's client-side quoting of an array of large JSON texts
    runs a regex per character class over every document (tens of ms per trace).
    PostgreSQL and SQLite 3.35+ both know ON CONFLICT ... RETURNING.
    """
    if not rows:
        return []
    connection = connections[router_db(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(_field_name(model, name)) for name in rows[0]]
    columns = ", ".join(quote(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [f.get_db_prep_save(row[f.attname], connection) for row in rows for f in fields]
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([one_row] * len(rows))} "
        f"ON CONFLICT ({', '.join(quote(c) for c in _columns(model, conflict))}) "
        f"DO UPDATE SET {', '.join(changes)}"
    )
    if returning:
        statement += " RETURNING " + ", ".join(quote(c) for c in _columns(model, returning))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if returning else []


def update_rows(objects: list, fields: list[str]) -> None:
    """Write `fields` of each model instance in `objects` (all of one model), as
    `QuerySet.bulk_update` does, in one `UPDATE ... FROM (VALUES ...)` on PostgreSQL.

    bulk_update builds a CASE WHEN expression per field and row and resolves each
    through the ORM: most of a batch's CPU in the worker. Other databases use it.
    """
    if not objects:
        return
    model = type(objects[0])
    connection = connections[router_db(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields)
        return
    quote = connection.ops.quote_name
    columns = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    casts = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in columns)
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objects for f in columns
    ]
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in columns)
    changes = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    pk = quote(model._meta.pk.column)
    statement = (
        f"UPDATE {table} SET {changes} FROM (VALUES {', '.join([f'({casts})'] * len(objects))}) "
        f"AS v ({names}) WHERE {table}.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


class ArrayInsert:
    """`insert(rows) -> ids`: many new rows of one model in one INSERT whose text is
    the same for any number of rows, for group commit (dre/batching.py).

    Each row is a tuple of the values of `columns` (attnames, values as the database
    takes them: ints, str, bytes, datetimes, None). Each of those columns travels as
    one array parameter (`unnest`) in PostgreSQL's binary format (dre.pg_arrays, which
    names the column types it encodes); every other column takes one value for all the
    rows: `constants[name]` if given, else the field's default, a callable being
    called once per statement. One text means psycopg and PostgreSQL prepare it once
    per connection, and no model instance is built per row: building and adapting
    instances (what `bulk_create` and a VALUES list of one placeholder per value do)
    cost more CPU than PostgreSQL's insert. The ids come back in the rows' order.
    """

    def __init__(self, model, columns: list[str], **constants):
        self.model, self.columns = model, columns
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        self._given = [by_attname[name] for name in columns]
        self._rest = [f for f in fields if f.attname not in columns]
        self._constants = [  # (field, value or callable), in self._rest's order
            (f, constants[f.attname] if f.attname in constants else _default(f)) for f in self._rest
        ]
        self._plan: _InsertPlan | None = None  # made on the first call (a connection's)

    def __call__(self, rows: list[tuple]) -> list[int]:
        connection = connections[router_db(self.model)]
        if connection.vendor != "postgresql":  # SQLite, for development
            constants = {f.attname: v() if callable(v) else v for f, v in self._constants}
            objects = [
                self.model(**dict(zip(self.columns, row, strict=True)), **constants) for row in rows
            ]
            return [created.pk for created in self.model.objects.bulk_create(objects)]
        plan = self._plan or self._plan_for(connection)
        # In the statement's order: the constants (SELECT's list), then the arrays.
        params = [
            f.get_db_prep_save(value(), connection) if callable(value) else value
            for f, value in plan.scalars
        ]
        params += [
            element.array_of(values)
            for element, values in zip(plan.elements, zip(*rows, strict=True), strict=True)
        ]
        with _binary_cursor(connection) as cursor:
            cursor.execute(plan.statement, params)
            # ids grow in the order the rows were inserted, which is the arrays' order
            return sorted(found for (found,) in cursor.fetchall())

    def _plan_for(self, connection) -> _InsertPlan:
        quote = connection.ops.quote_name
        given = len(self._given)
        arrays = ", ".join(f"%b::{f.cast_db_type(connection)}[]" for f in self._given)
        names = [f"v{i}" for i in range(given)]
        scalars = [f"%b::{f.cast_db_type(connection)}" for f in self._rest]
        columns = ", ".join(quote(f.column) for f in [*self._given, *self._rest])
        statement = (
            f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) "
            f"SELECT {', '.join([*names, *scalars])} "
            f"FROM unnest({arrays}) WITH ORDINALITY AS rows ({', '.join(names)}, n) "
            f"ORDER BY n RETURNING {quote(self.model._meta.pk.column)}"
        )
        self._plan = _InsertPlan(
            statement,
            [
                (f, v if callable(v) else f.get_db_prep_save(v, connection))
                for f, v in self._constants
            ],
            [pg_arrays.element_type(f.db_type(connection)) for f in self._given],
        )
        return self._plan


class _InsertPlan(NamedTuple):
    """What every call of one ArrayInsert binds the same way."""

    statement: str
    scalars: list[tuple]  # (field, its constant adapted once, or a callable to adapt per call)
    elements: list[pg_arrays.ElementType]  # how each given column's array is encoded


def _default(field):
    """A field's default as Model() sets it: a callable one is called per statement."""
    if field.has_default():
        return field.default
    return field.get_default()


# The psycopg connections that know pg_arrays' values (weakly: Django replaces them).
_arrays_registered: weakref.WeakSet = weakref.WeakSet()


def _binary_cursor(connection):
    """A PostgreSQL cursor that sends values apart from the statement, in binary where
    its placeholder is `%b` (psycopg's server-side binding), wrapped as Django wraps
    its cursors (so tests and the debug toolbar see its statements).

    Django's cursor binds on the client: it quotes every value into the statement,
    bytes as hex, and PostgreSQL parses that text at every call. `%b` asks for binary
    (dre.pg_arrays' arrays are binary only). Such statements are prepared once run a
    few times (settings: DATABASE_PREPARE_THRESHOLD)."""
    import psycopg

    connection.ensure_connection()
    if connection.connection not in _arrays_registered:
        pg_arrays.arrays_register(connection.connection)
        _arrays_registered.add(connection.connection)
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def insert_json_rows(
    model, rows: list[dict], *, conflict: str = "", returning: tuple = ("id",)
) -> list[tuple]:
    """INSERT rows of one model (PostgreSQL), given as dicts of column -> value (the
    same columns in each), sent as one JSON parameter (`json_populate_recordset`) and
    inserted in their order; `conflict` is an optional `ON CONFLICT ...` clause.
    Returns the `returning` columns of each stored row.

    For the worker's batches of hundreds of rows: there, adapting every value as a
    parameter and psycopg splitting a statement of thousands of placeholders cost more
    than PostgreSQL's insert; one json.dumps costs a fraction."""
    connection = connections[router_db(model)]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(c) for c in rows[0])
    statement = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{table}, %s) WITH ORDINALITY ORDER BY ordinality "
        f"{conflict} RETURNING {', '.join(quote(c) for c in returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [json.dumps(rows, default=_json_value)])
        return cursor.fetchall()


def _json_value(value):
    """JSON for what json.dumps does not know, as PostgreSQL's input functions read it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"no JSON for {type(value).__name__}")


def router_db(model) -> str:
    from django.db import router

    return router.db_for_write(model)


def _field_name(model, name: str) -> str:
    """A field's name from its name or attname ("issue" or "issue_id")."""
    for found in model._meta.concrete_fields:
        if name in (found.name, found.attname):
            return found.name
    raise ValueError(f"{model.__name__} has no field {name!r}")


def _columns(model, names) -> list[str]:
    return [model._meta.get_field(_field_name(model, n)).column for n in names]

"""`manage.py createdb` (bin/demo): a DATABASE_URL naming a database that does not exist
yet works on a fresh PostgreSQL server."""

import uuid

import pytest
from django.db import connection

from dre.web.management.commands.createdb import database_create_if_missing

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs against PostgreSQL (CI configures it)"
)


@pytest.fixture
def fresh_name():
    import psycopg
    from psycopg import sql

    name = f"dre_createdb_{uuid.uuid4().hex[:12]}"
    yield name
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as maintenance:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@postgres_only
def test_a_missing_database_is_created_once(fresh_name):
    params = connection.get_connection_params()

    assert database_create_if_missing(params, fresh_name) is True
    assert database_create_if_missing(params, fresh_name) is False

"""`manage.py createdb`: create the configured PostgreSQL database if it is missing.

bin/demo runs it before migrating, so DATABASE_URL may name a database that does not
exist yet, as on a fresh server. SQLite needs nothing: it creates its file itself.
"""

from django.core.management.base import BaseCommand
from django.db import connections


class Command(BaseCommand):
    help = "Create the configured PostgreSQL database when it does not exist yet."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="which DATABASES entry")

    def handle(self, *args, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            return
        name = connection.settings_dict["NAME"]
        if database_create_if_missing(connection.get_connection_params(), name):
            self.stdout.write(f"created PostgreSQL database {name!r}")


def database_create_if_missing(params: dict, name: str) -> bool:
    """Create database `name` on the server `params` (psycopg's) point at, through its
    maintenance database; True if it had to be created."""
    import psycopg
    from psycopg import sql

    server = {**params, "dbname": "postgres"}
    with psycopg.connect(**server, autocommit=True) as maintenance:
        if maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True

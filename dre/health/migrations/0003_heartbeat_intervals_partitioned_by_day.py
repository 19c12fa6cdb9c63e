"""Heartbeat intervals become a table partitioned by range on `ended` (PostgreSQL only).

PostgreSQL wants the partition key in every unique key: the primary key becomes
(id, ended) in the database while Django keeps addressing rows by `id` alone (ids still
come from one sequence, so they stay unique); the interval's identity
(project, device, session_index, ended) already holds `ended`. Indexes, foreign keys and
constraints are re-created from the old table's own definitions. Day partitions are made
by the beat task (dre.health.partitions); until then, and for any row no day partition
covers, rows land in the default partition. SQLite keeps the plain table.
"""

from django.db import migrations

TABLE = "health_heartbeatinterval"
OLD = f"{TABLE}_unpartitioned"
SEQUENCE = f"{TABLE}_id_seq"


def _definitions(cursor):
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass",
        [TABLE],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [TABLE, TABLE],
    )
    return constraints, [row[0] for row in cursor.fetchall()]


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        constraints, indexes = _definitions(cursor)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (ended)"
        )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"CREATE SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
        cursor.execute(
            f"SELECT setval('{SEQUENCE}', COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ALTER id SET DEFAULT nextval('{SEQUENCE}')")
        for name, definition, kind in constraints:
            if kind == "p":
                definition = "PRIMARY KEY (id, ended)"
            if kind != "n":
                cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for definition in indexes:
            cursor.execute(definition)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("health", "0002_metric_registry_ranges_attributes_sketches")]
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]

from django.db import migrations


def compress_raw_with_lz4(apps, schema_editor):
    """Keep a coredump's bytes in its row, compressed with lz4 where PostgreSQL has it.

    0005 stored them uncompressed and out of line, to spare the group commit pglz's
    CPU. But the RAM a coredump holds is mostly zeros and repeats (the bench's 8 kB
    fixture: 0.9 kB with zlib), and lz4 compresses it, or gives up on data that does
    not compress, in a few microseconds: PostgreSQL then writes one row instead of a
    row and four TOAST chunks, a fifth less CPU per inserted coredump and far less WAL.
    A value too large for a page still goes out of line (STORAGE MAIN allows it)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        (has_lz4,) = cursor.fetchone()
    if has_lz4:
        schema_editor.execute(
            "ALTER TABLE crashes_coredump ALTER COLUMN raw SET STORAGE MAIN, "
            "ALTER COLUMN raw SET COMPRESSION lz4"
        )


def store_raw_uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE crashes_coredump ALTER COLUMN raw SET STORAGE EXTERNAL, "
            "ALTER COLUMN raw SET COMPRESSION DEFAULT"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crashes", "0006_coredump_partial_indexes"),
    ]

    operations = [
        migrations.RunPython(compress_raw_with_lz4, store_raw_uncompressed),
    ]

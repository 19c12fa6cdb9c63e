from django.db import migrations, models


def store_raw_uncompressed(apps, schema_editor):
    """Coredumps barely compress, and pglz trying on every INSERT costs the group
    commit's CPU: keep the bytes out of line as they are (PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE crashes_coredump ALTER COLUMN raw SET STORAGE EXTERNAL")


class Migration(migrations.Migration):
    dependencies = [
        ("crashes", "0004_issue_kind_for_trace_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="coredump",
            name="raw",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="coredump",
            name="blob",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.RunPython(store_raw_uncompressed, migrations.RunPython.noop),
    ]

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("ingest", "0002_ota_payload_uploads_in_parts"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingChunks",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("device_serial", models.CharField(max_length=128)),
                ("chunks", models.BinaryField()),
                ("received", models.DateTimeField(default=django.utils.timezone.now)),
                ("queued", models.DateTimeField(blank=True, null=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.project",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["project", "device_serial", "id"],
                        name="ingest_pend_project_52de8d_idx",
                    ),
                    models.Index(fields=["queued"], name="ingest_pend_queued_3933e4_idx"),
                ],
            },
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crashes", "0003_issue_culprit_hourly_counts_app_rules")]

    operations = [
        migrations.AddField(
            model_name="issue",
            name="kind",
            field=models.CharField(
                choices=[("crash", "Crash"), ("trace_event", "Trace Event")],
                default="crash",
                max_length=16,
            ),
        ),
    ]

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """What an Open311 client sends with a whistle besides the whistle's own fields."""

    initial = True

    dependencies = [
        ("whistle", "0011_whistle_attributes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServiceRequestOrigin",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("account_id", models.CharField(blank=True, max_length=64, verbose_name="account id")),
                ("device_id", models.CharField(blank=True, max_length=64, verbose_name="device id")),
                ("media_url", models.URLField(blank=True, max_length=500, verbose_name="media URL")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at")),
                (
                    "whistle",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="open311_origin",
                        to="whistle.whistle",
                        verbose_name="whistle",
                    ),
                ),
            ],
            options={
                "verbose_name": "Open311 origin",
                "verbose_name_plural": "Open311 origins",
            },
        ),
    ]

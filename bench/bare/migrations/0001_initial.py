from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="BareRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("description", models.TextField()),
                ("category", models.CharField(max_length=32)),
                ("grade", models.CharField(max_length=16)),
                ("source", models.CharField(max_length=16)),
                ("mode", models.CharField(max_length=16)),
                ("lon", models.FloatField()),
                ("lat", models.FloatField()),
                ("address", models.CharField(blank=True, max_length=200)),
                ("external_id", models.CharField(max_length=64)),
                ("caller_name", models.CharField(blank=True, max_length=64)),
                ("caller_phone", models.CharField(blank=True, max_length=32)),
            ],
        ),
    ]

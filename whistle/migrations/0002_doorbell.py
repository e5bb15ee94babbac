from django.db import migrations, models


def install_the_bells(apps, schema_editor):
    for name in ("routing", "mail"):
        apps.get_model("whistle", "Doorbell").objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("whistle", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Doorbell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=32, unique=True, verbose_name="name")),
                ("rung_at", models.DateTimeField(blank=True, null=True, verbose_name="rung at")),
            ],
            options={
                "verbose_name": "doorbell",
                "verbose_name_plural": "doorbells",
            },
        ),
        migrations.RunPython(install_the_bells, migrations.RunPython.noop),
    ]

from django.db import migrations, models


def install_the_bell(apps, schema_editor):
    apps.get_model("whistle", "RoutingDoorbell").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("whistle", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoutingDoorbell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rung_at", models.DateTimeField(blank=True, null=True, verbose_name="rung at")),
            ],
            options={
                "verbose_name": "routing doorbell",
                "verbose_name_plural": "routing doorbell",
            },
        ),
        migrations.RunPython(install_the_bell, migrations.RunPython.noop),
    ]

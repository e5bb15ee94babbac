from django.db import migrations, models


class Migration(migrations.Migration):
    """The answers to a category's attribute questions, and the caller's e-mail (Open311 intake)."""

    dependencies = [
        ("whistle", "0010_evaluation_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="whistle",
            name="attributes",
            field=models.JSONField(
                blank=True,
                db_default=models.Value({}, output_field=models.JSONField()),
                default=dict,
                help_text="Answers to the category's attribute questions, by attribute code.",
                verbose_name="attributes",
            ),
        ),
        migrations.AddField(
            model_name="whistle",
            name="caller_email",
            field=models.EmailField(blank=True, db_default="", max_length=254, verbose_name="caller's e-mail"),
        ),
    ]

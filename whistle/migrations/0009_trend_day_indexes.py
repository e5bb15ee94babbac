from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the supervisor's daily trend: whistles raised and closed per day, tasks gone overdue per day.

    Each count is a range over the last weeks of one moment: the whistles'
    with the street beside it (the count reads the index alone), the tasks'
    overdue marks over the few tasks that have one.
    """

    dependencies = [
        ("whistle", "0008_list_order_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("acknowledge_overdue_at__isnull", False)),
                fields=["acknowledge_overdue_at"],
                name="task_acknowledge_overdue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("checkin_overdue_at__isnull", False)),
                fields=["checkin_overdue_at"],
                name="task_checkin_overdue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("resolve_overdue_at__isnull", False)),
                fields=["resolve_overdue_at"],
                name="task_resolve_overdue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="whistle",
            index=models.Index(fields=["submitted_at", "street"], name="whistle_raised_day_idx"),
        ),
        migrations.AddIndex(
            model_name="whistle",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", False)),
                fields=["closed_at", "street"],
                name="whistle_closed_day_idx",
            ),
        ),
    ]

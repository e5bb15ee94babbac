"""The defaults of DESIGN.md ("Deadlines"); every figure is editable in the administration afterwards."""

import datetime
import secrets
from decimal import Decimal

from django.db import migrations

POLICIES = [
    # grade, (acknowledge), (check in), (resolve), warning ratio, joint meeting
    ("ordinary", (2, "working_hours"), (1, "working_days"), (7, "working_days"), "0.80", False),
    ("priority", (30, "minutes"), (2, "hours"), (24, "hours"), "0.75", False),
    ("difficult", (2, "working_hours"), (2, "working_days"), (15, "working_days"), "0.80", True),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("escalation", "SlaPolicy")
    for grade, acknowledge, checkin, resolve, ratio, joint in POLICIES:
        SlaPolicy.objects.get_or_create(grade=grade, defaults={
            "acknowledge_amount": acknowledge[0], "acknowledge_unit": acknowledge[1],
            "checkin_amount": checkin[0], "checkin_unit": checkin[1],
            "resolve_amount": resolve[0], "resolve_unit": resolve[1],
            "warning_ratio": Decimal(ratio), "requires_joint_meeting": joint,
        })
    apps.get_model("escalation", "WorkSchedule").objects.get_or_create(
        pk=1, defaults={"day_start": datetime.time(8, 30), "day_end": datetime.time(17, 30)},
    )
    apps.get_model("escalation", "CalendarVersion").objects.update_or_create(
        pk=1, defaults={"version": secrets.randbits(62)},
    )


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

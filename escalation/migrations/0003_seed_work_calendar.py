"""China's public holidays and adjusted working days (调休) from the chinese-calendar package.

Seeds 2020 up to the last year the installed package knows (2026 for 1.11), only
the dates that differ from Monday to Friday, and marks each seeded year
complete. It asks the package only about years it knows, so it runs the same
in any year; later years come with `manage.py seed_calendar` after a package
upgrade, or by hand in the administration. Self-contained on purpose: a
migration must not change when the application code does.
"""

import datetime
import secrets

from django.db import migrations

FIRST_YEAR = 2020


def package_knows(chinese_calendar, year):
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def name_of(chinese_calendar, english, working):
    try:
        chinese = chinese_calendar.Holiday(english).chinese
    except ValueError:
        chinese = english or ("调休" if working else "节假日")
    return f"{chinese}调休" if working else chinese


def seed(apps, schema_editor):
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - the package is a dependency; without it, nothing to seed
        return
    WorkCalendarDay = apps.get_model("escalation", "WorkCalendarDay")
    WorkCalendarYear = apps.get_model("escalation", "WorkCalendarYear")
    version = getattr(chinese_calendar, "__version__", "?")
    year = FIRST_YEAR
    while year <= 2100 and package_knows(chinese_calendar, year):
        day, rows = datetime.date(year, 1, 1), []
        while day.year == year:
            working = chinese_calendar.is_workday(day)
            if working != (day.weekday() < 5):
                _holiday, english = chinese_calendar.get_holiday_detail(day)
                rows.append(WorkCalendarDay(
                    date=day, is_working_day=working, name=name_of(chinese_calendar, english, working), source="package",
                ))
            day += datetime.timedelta(days=1)
        WorkCalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
        WorkCalendarYear.objects.get_or_create(
            year=year, defaults={"complete": True, "note": f"chinese-calendar {version}"},
        )
        year += 1
    apps.get_model("escalation", "CalendarVersion").objects.update_or_create(
        pk=1, defaults={"version": secrets.randbits(62)},
    )


def unseed(apps, schema_editor):
    apps.get_model("escalation", "WorkCalendarDay").objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("escalation", "0002_seed_policies_and_working_hours")]

    operations = [migrations.RunPython(seed, unseed)]

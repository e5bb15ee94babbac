"""(Re)load years of public holidays and adjusted working days from the chinese-calendar package.

    python manage.py seed_calendar 2027            # one year
    python manage.py seed_calendar 2020 2027       # a range, both ends included

For when a new release of the package brings next year's schedule. Running it
twice changes nothing the second time. Days an administrator entered or
corrected are kept unless --replace-manual is given.
"""

import datetime

import chinese_calendar
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from escalation.models import WorkCalendarDay, WorkCalendarYear
from escalation.policy import bump_calendar_version

PACKAGE = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()


def package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def known_years() -> tuple[int, int] | None:
    """The first and last year the installed package knows."""
    years = [year for year in range(2000, 2101) if package_knows(year)]
    return (years[0], years[-1]) if years else None


def day_name(english: str | None, working: bool) -> str:
    try:
        name = chinese_calendar.Holiday(english).chinese
    except ValueError:
        name = english or ("调休" if working else "节假日")
    return f"{name}调休" if working else name


def package_days(year: int) -> dict[datetime.date, tuple[bool, str]]:
    """The dates of ``year`` that differ from Monday to Friday: {date: (is working day, name)}."""
    days = {}
    day = datetime.date(year, 1, 1)
    while day.year == year:
        working = chinese_calendar.is_workday(day)
        if working != (day.weekday() < 5):
            _holiday, english = chinese_calendar.get_holiday_detail(day)
            days[day] = (working, day_name(english, working))
        day += datetime.timedelta(days=1)
    return days


class Command(BaseCommand):
    help = "Load the public holidays and adjusted working days of a range of years from the chinese-calendar package."

    def add_arguments(self, parser):
        parser.add_argument("first_year", type=int)
        parser.add_argument("last_year", type=int, nargs="?", help="Defaults to first_year.")
        parser.add_argument(
            "--replace-manual",
            action="store_true",
            help="Also overwrite or remove days an administrator entered or corrected.",
        )

    def handle(self, first_year, last_year=None, replace_manual=False, verbosity=1, **options):
        last_year = first_year if last_year is None else last_year
        if last_year < first_year:
            raise CommandError(f"The range {first_year}–{last_year} is empty: give the earlier year first.")
        unknown = [year for year in range(first_year, last_year + 1) if not package_knows(year)]
        if unknown:
            known = known_years()
            knows = f"{known[0]}–{known[1]}" if known else "no year"
            raise CommandError(
                f"{PACKAGE} does not know {', '.join(map(str, unknown))} (it knows {knows}). Upgrade the "
                "package once a release has the year, or enter its holidays and adjusted working days in the "
                "administration and mark the year complete. Nothing was changed."
            )
        with transaction.atomic():
            totals = {"created": 0, "changed": 0, "removed": 0, "kept": 0}
            changed_any = False
            for year in range(first_year, last_year + 1):
                counts = self.load_year(year, replace_manual)
                changed_any |= counts.pop("year_changed")
                for key, value in counts.items():
                    totals[key] += value
                if verbosity >= 2:
                    self.stdout.write(f"{year}: {counts}")
            changed_any |= any(totals[key] for key in ("created", "changed", "removed"))
            if changed_any:
                # bulk writes send no signals: tell every process itself.
                bump_calendar_version()
        self.stdout.write(
            self.style.SUCCESS(
                f"{first_year}–{last_year} from {PACKAGE}: {totals['created']} days added, {totals['changed']} "
                f"changed, {totals['removed']} removed; {totals['kept']} entered by an administrator kept."
            )
        )

    def load_year(self, year: int, replace_manual: bool) -> dict:
        wanted = package_days(year)
        existing = {row.date: row for row in WorkCalendarDay.objects.filter(date__year=year)}
        counts = {"created": 0, "changed": 0, "removed": 0, "kept": 0}
        create, update, remove = [], [], []
        for row in existing.values():
            manual = row.source == WorkCalendarDay.Source.ADMINISTRATOR
            if manual and not replace_manual:
                counts["kept"] += 1
            elif row.date not in wanted:
                remove.append(row.pk)
            elif (row.is_working_day, row.name, row.source) != (*wanted[row.date], WorkCalendarDay.Source.PACKAGE):
                row.is_working_day, row.name = wanted[row.date]
                row.source = WorkCalendarDay.Source.PACKAGE
                row.updated_at = timezone.now()  # bulk_update skips auto_now
                update.append(row)
        for day, (working, name) in wanted.items():
            if day not in existing:
                create.append(WorkCalendarDay(date=day, is_working_day=working, name=name, source="package"))
        WorkCalendarDay.objects.bulk_create(create)
        WorkCalendarDay.objects.bulk_update(update, ["is_working_day", "name", "source", "updated_at"])
        WorkCalendarDay.objects.filter(pk__in=remove).delete()
        counts.update(created=len(create), changed=len(update), removed=len(remove))

        year_row, created = WorkCalendarYear.objects.get_or_create(
            year=year,
            defaults={"complete": True, "note": PACKAGE},
        )
        year_changed = created
        if not year_row.complete:
            year_row.complete = True
            year_row.note = year_row.note or PACKAGE
            year_row.save(update_fields=["complete", "note"])
            year_changed = True
        return {**counts, "year_changed": year_changed}

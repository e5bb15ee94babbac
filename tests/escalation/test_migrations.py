"""What the data migrations put in place (the defaults of DESIGN.md, "Deadlines")."""

import datetime as dt
from decimal import Decimal

from escalation.management.commands.seed_calendar import known_years
from escalation.models import SlaPolicy, WorkCalendarDay, WorkCalendarYear, WorkSchedule


def test_the_migrations_seeded_the_deadline_table_of_the_design(db):
    rows = {
        p.grade: (
            (p.acknowledge_amount, p.acknowledge_unit),
            (p.checkin_amount, p.checkin_unit),
            (p.resolve_amount, p.resolve_unit),
            p.warning_ratio,
            p.requires_joint_meeting,
        )
        for p in SlaPolicy.objects.all()
    }

    assert rows == {
        "ordinary": ((2, "working_hours"), (1, "working_days"), (7, "working_days"), Decimal("0.80"), False),
        "priority": ((30, "minutes"), (2, "hours"), (24, "hours"), Decimal("0.75"), False),
        "difficult": ((2, "working_hours"), (2, "working_days"), (15, "working_days"), Decimal("0.80"), True),
    }


def test_the_migrations_seeded_the_working_hours(db):
    schedule = WorkSchedule.objects.get()

    assert (schedule.day_start, schedule.day_end) == (dt.time(8, 30), dt.time(17, 30))


def test_the_migrations_seeded_2026_10_10_as_a_working_saturday(db):
    day = WorkCalendarDay.objects.get(date=dt.date(2026, 10, 10))

    assert day.is_working_day is True
    assert day.name == "国庆节调休"
    assert day.source == "package"


def test_the_migrations_seeded_only_the_days_that_differ_from_monday_to_friday(db):
    national_day = dict(
        WorkCalendarDay.objects.filter(date__range=(dt.date(2026, 9, 28), dt.date(2026, 10, 12))).values_list(
            "date", "is_working_day"
        )
    )

    # Sat 3 and Sun 4 Oct are holidays too, but rest days anyway: no row for them.
    assert national_day == {
        dt.date(2026, 10, 1): False,
        dt.date(2026, 10, 2): False,
        dt.date(2026, 10, 5): False,
        dt.date(2026, 10, 6): False,
        dt.date(2026, 10, 7): False,
        dt.date(2026, 10, 10): True,
    }
    assert WorkCalendarDay.objects.get(date=dt.date(2026, 2, 16)).name == "春节"


def test_the_migrations_marked_2020_to_the_packages_last_year_complete_and_nothing_later(db):
    _first, last = known_years()  # 2026 for chinese-calendar 1.11
    complete = set(WorkCalendarYear.objects.filter(complete=True).values_list("year", flat=True))

    assert last >= 2026
    assert complete == set(range(2020, last + 1))
    assert not WorkCalendarDay.objects.filter(date__year=last + 1).exists()
    assert WorkCalendarDay.objects.filter(date__year=2020).count() > 10

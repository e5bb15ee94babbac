import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from escalation.models import WorkCalendarDay, WorkCalendarYear
from escalation.policy import calendar_version


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("seed_calendar", *map(str, args), stdout=out)
    return out.getvalue()


def test_reloading_a_seeded_year_changes_nothing(db):
    before = list(WorkCalendarDay.objects.filter(date__year=2026).values_list("date", "is_working_day", "name"))
    version = calendar_version()

    output = run(2026)

    assert "0 days added, 0 changed, 0 removed" in output
    assert calendar_version() == version
    assert list(WorkCalendarDay.objects.filter(date__year=2026).values_list("date", "is_working_day", "name")) == before


def test_a_reload_restores_the_package_days_and_is_idempotent(db):
    WorkCalendarDay.objects.filter(date__year=2025).delete()
    WorkCalendarYear.objects.filter(year=2025).delete()
    WorkCalendarDay.objects.filter(date=dt.date(2026, 10, 9)).delete()
    WorkCalendarDay.objects.filter(date=dt.date(2026, 10, 10)).update(name="wrong")
    WorkCalendarDay.objects.create(date=dt.date(2026, 11, 10), is_working_day=False, name="stale", source="package")
    version = calendar_version()

    first = run(2025, 2026)
    second = run(2025, 2026)

    assert "days added, 1 changed, 1 removed" in first and "0 days added" not in first
    assert "0 days added, 0 changed, 0 removed" in second
    assert calendar_version() != version
    assert WorkCalendarDay.objects.get(date=dt.date(2026, 10, 10)).name == "国庆节调休"
    assert not WorkCalendarDay.objects.filter(date=dt.date(2026, 11, 10)).exists()
    assert WorkCalendarDay.objects.filter(date__year=2025).count() > 10
    assert WorkCalendarYear.objects.get(year=2025).complete


def test_days_entered_by_an_administrator_are_kept_unless_replaced(db):
    WorkCalendarDay.objects.create(
        date=dt.date(2026, 11, 10), is_working_day=False, name="typhoon", source="administrator"
    )

    kept = run(2026)
    assert "1 entered by an administrator kept" in kept
    assert WorkCalendarDay.objects.filter(date=dt.date(2026, 11, 10)).exists()

    run(2026, "--replace-manual")
    assert not WorkCalendarDay.objects.filter(date=dt.date(2026, 11, 10)).exists()


def test_an_incomplete_year_is_marked_complete(db):
    WorkCalendarYear.objects.filter(year=2024).update(complete=False)

    run(2024)

    assert WorkCalendarYear.objects.get(year=2024).complete


def test_a_year_the_package_does_not_know_is_refused_and_nothing_changes(db):
    count = WorkCalendarDay.objects.count()

    with pytest.raises(CommandError, match=r"does not know 2027 \(it knows 2004–2026\).*Nothing was changed"):
        run(2025, 2027)

    assert WorkCalendarDay.objects.count() == count
    assert not WorkCalendarYear.objects.filter(year=2027).exists()


def test_a_reversed_range_is_refused(db):
    with pytest.raises(CommandError, match="give the earlier year first"):
        run(2026, 2025)

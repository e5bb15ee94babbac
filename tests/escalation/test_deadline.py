"""deadline() and warning_at() over the seeded 2026 calendar, and their edges."""

import datetime as dt
from decimal import Decimal

import pytest

from escalation.policy import Calendar, DeadlineError, Window, deadline, warning_at
from tests.escalation.conftest import at

WD = "working_days"
WH = "working_hours"


@pytest.mark.parametrize(
    "start, window, expected",
    [
        # The three examples of the rules.
        ("2026-11-09 10:00", Window(1, WD), "2026-11-10 10:00"),  # Monday → Tuesday
        ("2026-11-07 10:00", Window(1, WD), "2026-11-09 17:30"),  # Saturday → Monday, end of day
        ("2026-11-06 16:00", Window(1, WD), "2026-11-09 16:00"),  # Friday → Monday, across the weekend
        ("2026-11-06 16:00", Window(3, WD), "2026-11-11 16:00"),
        ("2026-11-06 16:00", Window(2, WH), "2026-11-09 09:00"),  # 1.5 h on Friday, 0.5 h on Monday
    ],
)
def test_working_time_skips_the_weekend(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        # Thu 1 Oct – Wed 7 Oct 2026 are holidays; Thu 8, Fri 9 and Saturday 10 Oct are worked.
        ("2026-09-30 10:00", Window(1, WD), "2026-10-08 10:00"),
        ("2026-09-30 16:00", Window(2, WH), "2026-10-08 09:00"),
        ("2026-10-03 11:00", Window(1, WD), "2026-10-08 17:30"),  # started inside the holiday
        ("2026-10-09 16:00", Window(1, WD), "2026-10-10 16:00"),  # Friday → the working Saturday
        ("2026-09-30 10:00", Window(7, WD), "2026-10-15 10:00"),  # 10-08, 09, 10 (Sat), 12, 13, 14, 15
        ("2026-09-30 10:00", Window(15, WD), "2026-10-27 10:00"),
    ],
)
def test_working_time_skips_national_day_and_counts_its_working_saturday(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        # Sun 15 – Mon 23 Feb 2026 are holidays; Sat 14 and Sat 28 Feb are worked.
        ("2026-02-13 10:00", Window(1, WD), "2026-02-14 10:00"),
        ("2026-02-14 16:00", Window(1, WD), "2026-02-24 16:00"),
        ("2026-02-13 10:00", Window(7, WD), "2026-03-02 10:00"),  # 14, 24, 25, 26, 27, 28 (Sat), 2 Mar
        ("2026-02-18 09:00", Window(2, WH), "2026-02-24 10:30"),
    ],
)
def test_working_time_skips_the_spring_festival(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-09-20 09:00", Window(2, WH), "2026-09-20 11:00"),  # a working Sunday counts like a Monday
        ("2026-09-19 12:00", Window(2, WH), "2026-09-20 10:30"),  # Saturday → the working Sunday
        ("2026-01-01 10:00", Window(1, WD), "2026-01-04 17:30"),  # New Year holiday → the working Sunday
        ("2026-01-04 10:00", Window(1, WD), "2026-01-05 10:00"),
    ],
)
def test_working_sundays_count(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


def test_working_sundays_are_working_days_and_holidays_are_not(calendar):
    assert calendar.is_working_day(dt.date(2026, 9, 20))
    assert calendar.is_working_day(dt.date(2026, 1, 4))
    assert not calendar.is_working_day(dt.date(2026, 10, 1))
    assert not calendar.is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday
    assert calendar.is_working_day(dt.date(2026, 10, 12))  # an ordinary Monday


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-11-09 15:30", Window(2, WH), "2026-11-09 17:30"),  # lands exactly at closing: stays there
        ("2026-11-09 08:30", Window(1, WD), "2026-11-09 17:30"),  # a whole working day from the opening
        ("2026-11-09 08:30", Window(9, WH), "2026-11-09 17:30"),
        ("2026-11-09 17:30", Window(2, WH), "2026-11-10 10:30"),  # started at closing: counts from next morning
        ("2026-11-09 17:30", Window(1, WD), "2026-11-10 17:30"),
        ("2026-11-09 18:45", Window(2, WH), "2026-11-10 10:30"),  # started after closing
        ("2026-11-09 17:29", Window(2, WH), "2026-11-10 10:29"),  # one minute on Monday, the rest on Tuesday
        ("2026-11-06 16:00", Window(90, "minutes"), "2026-11-06 17:30"),  # clock time is not moved either
    ],
)
def test_the_end_of_a_working_day(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-11-10 02:00", Window(2, WH), "2026-11-10 10:30"),
        ("2026-11-10 08:29", Window(1, WD), "2026-11-10 17:30"),
        ("2026-11-06 23:00", Window(2, WH), "2026-11-09 10:30"),  # Friday night → Monday
        ("2026-09-30 23:59", Window(1, WD), "2026-10-08 17:30"),  # the night before National Day
    ],
)
def test_a_start_at_night_counts_from_the_next_working_morning(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-10-01 22:30", Window(2, "hours"), "2026-10-02 00:30"),  # across midnight, on a holiday
        ("2026-09-30 10:00", Window(24, "hours"), "2026-10-01 10:00"),
        ("2026-12-31 23:45", Window(30, "minutes"), "2027-01-01 00:15"),
        ("2026-11-07 20:00", Window(2, "hours"), "2026-11-07 22:00"),  # a Saturday night counts too
    ],
)
def test_clock_time_is_plain_addition(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-11-09 16:00", Window(20, WH), "2026-11-12 09:00"),  # 1.5 + 9 + 9 + 0.5
        ("2026-11-09 16:00", Window(27, WH), "2026-11-12 16:00"),  # = 3 working days
        ("2026-11-12 12:00", Window(18, WH), "2026-11-16 12:00"),  # Thu → Fri → Mon
        ("2026-09-29 12:00", Window(20, WH), "2026-10-08 14:00"),  # 5.5 + 9 (30 Sep) + 5.5 (8 Oct)
    ],
)
def test_working_hours_span_several_days(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


def test_a_utc_start_gives_the_same_moment(calendar):
    start = at("2026-11-06 16:00")
    utc = start.astimezone(dt.UTC)

    result = deadline(utc, Window(1, WD), calendar)

    assert result == at("2026-11-09 16:00")
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_a_year_the_package_does_not_know_counts_monday_to_friday_and_is_listed_missing(calendar):
    # Spring Festival 2027 begins on Saturday 6 February: not entered, so Monday 8 February is worked.
    assert calendar.missing_years([2026, 2027]) == [2027]
    assert calendar.is_working_day(dt.date(2027, 2, 8))
    assert not calendar.is_working_day(dt.date(2027, 2, 6))
    assert deadline(at("2027-02-05 10:00"), Window(1, WD), calendar) == at("2027-02-08 10:00")
    assert deadline(at("2027-02-05 10:00"), Window(7, WD), calendar) == at("2027-02-16 10:00")


@pytest.mark.parametrize(
    "start, window, expected",
    [
        ("2026-12-31 10:00", Window(1, WD), "2027-01-01 10:00"),  # 1 Jan 2027 is not entered: a Friday like any
        ("2026-12-31 10:00", Window(7, WD), "2027-01-11 10:00"),
        ("2026-12-31 16:00", Window(2, WH), "2027-01-01 09:00"),
        ("2026-12-31 17:30", Window(15, WD), "2027-01-21 17:30"),
    ],
)
def test_from_the_last_day_of_2026_into_2027(calendar, start, window, expected):
    assert deadline(at(start), window, calendar) == at(expected)


def test_an_entered_2027_holiday_is_used_even_before_the_year_is_complete(db):
    from escalation.models import WorkCalendarDay
    from escalation.policy import current_calendar

    WorkCalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, name="元旦")
    calendar = current_calendar()

    assert deadline(at("2026-12-31 10:00"), Window(1, WD), calendar) == at("2027-01-04 10:00")
    assert calendar.missing_years([2027]) == [2027]


@pytest.mark.parametrize(
    "start, window, ratio, expected",
    [
        ("2026-11-09 10:00", Window(2, WH), Decimal("0.80"), "2026-11-09 11:36"),
        ("2026-11-09 08:30", Window(7, WD), Decimal("0.80"), "2026-11-16 13:54"),  # 5.6 of 7 working days
        ("2026-11-06 16:00", Window(1, WD), Decimal("0.80"), "2026-11-09 14:12"),  # 1.5 h Friday + 5.7 h Monday
        ("2026-11-09 08:30", Window(1, WD), Decimal("0.50"), "2026-11-09 13:00"),
        ("2026-09-30 10:00", Window(1, WD), Decimal("0.80"), "2026-09-30 17:12"),  # before the holiday
        ("2026-09-30 16:00", Window(1, WD), Decimal("0.80"), "2026-10-08 14:12"),  # after the holiday
        ("2026-11-09 22:00", Window(30, "minutes"), Decimal("0.75"), "2026-11-09 22:22:30"),
        ("2026-11-09 10:00", Window(24, "hours"), Decimal("0.75"), "2026-11-10 04:00"),
        ("2026-11-09 10:00", Window(2, "hours"), 0.75, "2026-11-09 11:30"),  # a float works too
    ],
)
def test_warning_at_is_the_share_of_the_window(calendar, start, window, ratio, expected):
    assert warning_at(at(start), window, ratio, calendar) == at(expected)


def test_the_warning_comes_before_the_deadline(calendar):
    start = at("2026-09-29 15:00")
    for window in (Window(2, WH), Window(1, WD), Window(15, WD), Window(30, "minutes")):
        assert start < warning_at(start, window, Decimal("0.80"), calendar) < deadline(start, window, calendar)


@pytest.mark.parametrize("ratio", [0, 1, Decimal("1.5"), -0.2, "lots"])
def test_a_warning_ratio_outside_0_and_1_is_refused(ratio):
    with pytest.raises(DeadlineError, match="ratio"):
        warning_at(at("2026-11-09 10:00"), Window(2, WH), ratio, Calendar())


@pytest.mark.parametrize(
    "amount, unit, message",
    [
        (0, WD, "at least 1"),
        (-3, "hours", "at least 1"),
        (3661, WD, "more than 3660 days"),
        (1.5, WH, "whole number"),
        (2, "fortnights", "Unknown window unit"),
    ],
)
def test_a_bad_window_is_refused(amount, unit, message):
    with pytest.raises(DeadlineError, match=message):
        Window(amount, unit)


def test_a_naive_start_is_refused():
    with pytest.raises(DeadlineError, match="aware"):
        deadline(dt.datetime(2026, 11, 9, 10), Window(1, WD), Calendar())


def test_a_working_hours_window_of_more_than_3660_working_days_is_refused():
    one_hour_days = Calendar(day_start=dt.time(9), day_end=dt.time(10))

    with pytest.raises(DeadlineError, match="3660 working days"):
        deadline(at("2026-11-09 09:00"), Window(3662, WH), one_hour_days)


def test_the_longest_window_still_computes():
    result = deadline(at("2026-11-09 10:00"), Window(3660, WD), Calendar())

    assert result.year == 2040


def test_deadline_is_pure_and_follows_the_calendar_it_is_given():
    # No db fixture: any database access would fail this test.
    plain = Calendar()
    holiday = Calendar(exceptions={dt.date(2026, 11, 10): False}, day_start=dt.time(9), day_end=dt.time(17))

    assert deadline(at("2026-11-09 10:00"), Window(1, WD), plain) == at("2026-11-10 10:00")
    assert deadline(at("2026-11-09 10:00"), Window(1, WD), holiday) == at("2026-11-11 10:00")
    assert deadline(at("2026-11-09 16:00"), Window(2, WH), holiday) == at("2026-11-11 10:00")


def test_a_calendar_cannot_end_its_working_day_before_it_starts():
    with pytest.raises(DeadlineError, match="end after it starts"):
        Calendar(day_start=dt.time(17), day_end=dt.time(9))


def test_a_calendar_is_immutable():
    calendar = Calendar(exceptions={dt.date(2026, 11, 10): False})

    with pytest.raises(TypeError):
        calendar.exceptions[dt.date(2026, 11, 11)] = False
    with pytest.raises(AttributeError):
        calendar.day_end = dt.time(20)

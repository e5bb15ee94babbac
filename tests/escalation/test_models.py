"""Validation of policies, working hours and calendar days, in clean() and in the database."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from escalation.models import SlaPolicy, WorkCalendarDay, WorkCalendarYear, WorkSchedule


def messages_of(excinfo) -> dict[str, str]:
    return {field: " ".join(str(m) for m in messages) for field, messages in excinfo.value.message_dict.items()}


@pytest.fixture
def ordinary(db):
    return SlaPolicy.objects.get(grade="ordinary")


def test_the_seeded_policies_pass_validation(db):
    for policy in SlaPolicy.objects.all():
        policy.full_clean()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("acknowledge_amount", 0, "“acknowledge within” must be at least 1."),
        ("checkin_amount", 0, "“check in within” must be at least 1."),
        ("resolve_amount", 3661, "“resolve within” may be at most 3660 working days"),
        ("warning_ratio", Decimal("1.00"), "“Warning at” is a share of the window: more than 0 and less than 1"),
        ("warning_ratio", Decimal("0.00"), "more than 0 and less than 1"),
        ("resolve_unit", "fortnights", "is not a valid choice"),
        ("supervise_after_amount", 3661, "“supervision order after” may be at most 3660 working days"),
        ("accountable_after_amount", 3661, "“accountability record after” may be at most 3660 working days"),
        ("reply_within_amount", 0, "“reply to a supervision order within” must be at least 1."),
    ],
)
def test_a_bad_policy_gets_a_message_on_its_field(ordinary, field, value, message):
    setattr(ordinary, field, value)

    with pytest.raises(ValidationError) as excinfo:
        ordinary.full_clean()

    errors = messages_of(excinfo)
    assert list(errors) == [field]
    assert message in errors[field]


def test_the_amount_limit_depends_on_the_unit(ordinary):
    ordinary.acknowledge_amount, ordinary.acknowledge_unit = 3661, "hours"
    ordinary.full_clean()  # 3661 clock hours is about five months: allowed

    ordinary.acknowledge_amount = 87841
    with pytest.raises(ValidationError) as excinfo:
        ordinary.full_clean()
    assert "at most 87840 clock hours" in messages_of(excinfo)["acknowledge_amount"]


def test_a_second_policy_for_a_grade_is_refused(db):
    duplicate = SlaPolicy(
        grade="priority",
        acknowledge_amount=1,
        acknowledge_unit="hours",
        checkin_amount=1,
        checkin_unit="hours",
        resolve_amount=1,
        resolve_unit="hours",
        warning_ratio=Decimal("0.5"),
    )
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()

    assert "grade" in messages_of(excinfo)


@pytest.mark.parametrize(
    "update",
    [
        {"warning_ratio": Decimal("1.00")},
        {"warning_ratio": Decimal("0")},
        {"acknowledge_amount": 0},
        {"checkin_unit": "fortnights"},
        {"grade": "urgent"},
    ],
)
def test_the_database_refuses_what_clean_would(ordinary, update):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.filter(pk=ordinary.pk).update(**update)


def test_working_hours_must_end_after_they_start(db):
    schedule = WorkSchedule.objects.get()
    schedule.day_end = dt.time(8, 0)

    with pytest.raises(ValidationError) as excinfo:
        schedule.full_clean()

    assert "The working day must end after it starts (08:30)." in messages_of(excinfo)["day_end"]
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkSchedule.objects.filter(pk=1).update(day_end=dt.time(8, 0))


def test_there_is_one_set_of_working_hours(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkSchedule.objects.create(id=2)


@pytest.mark.parametrize(
    "date, working, message",
    [
        (dt.date(2026, 11, 10), True, "is a weekday, which is a working day anyway"),
        (dt.date(2026, 11, 14), False, "is a Saturday or Sunday, which is a rest day anyway"),
    ],
)
def test_a_calendar_day_must_differ_from_monday_to_friday(db, date, working, message):
    day = WorkCalendarDay(date=date, is_working_day=working, name="x")

    with pytest.raises(ValidationError) as excinfo:
        day.full_clean()

    assert message in messages_of(excinfo)["is_working_day"]


def test_a_holiday_on_a_weekday_and_a_working_saturday_are_accepted(db):
    WorkCalendarDay(date=dt.date(2027, 1, 1), is_working_day=False, name="元旦").full_clean()
    WorkCalendarDay(date=dt.date(2027, 2, 20), is_working_day=True, name="春节调休").full_clean()


def test_a_calendar_date_is_entered_once(db):
    with pytest.raises(ValidationError) as excinfo:
        WorkCalendarDay(date=dt.date(2026, 10, 10), is_working_day=True).full_clean()

    assert "date" in messages_of(excinfo)


def test_a_calendar_year_is_between_2000_and_2100(db):
    with pytest.raises(ValidationError) as excinfo:
        WorkCalendarYear(year=1999).full_clean()

    assert "The year must be between 2000 and 2100." in messages_of(excinfo)["year"]

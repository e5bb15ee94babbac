"""Periods: a calendar month or a range of local days, the previous period, and the input rules."""

from datetime import date

import pytest
import time_machine

from config.errors import InvalidInput
from escalation.evaluation import level_parse
from escalation.periods import Period, period_parse
from tests.escalation.evaluation.facts import at


def test_a_month_runs_from_local_midnight_to_local_midnight():
    march = period_parse(period="2026-03")

    assert (march.first, march.last, march.label, march.is_month) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        "2026-03",
        True,
    )
    assert (march.start, march.end) == (at("2026-03-01 00:00"), at("2026-04-01 00:00"))
    assert march.previous() == Period.month(2026, 2) and march.following() == Period.month(2026, 4)
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)


def test_a_range_of_days_and_the_same_number_of_days_before_it():
    days = period_parse(date_from="2026-03-10", date_to="2026-03-16")

    assert (days.days, days.label, days.slug, days.is_month) == (
        7,
        "2026-03-10–2026-03-16",
        "2026-03-10_2026-03-16",
        False,
    )
    assert days.previous() == Period(date(2026, 3, 3), date(2026, 3, 9))
    # A whole month given as dates is that month.
    assert period_parse(date_from="2026-02-01", date_to="2026-02-28").previous() == Period.month(2026, 1)


def test_without_a_period_this_month_in_shanghai():
    with time_machine.travel(at("2026-05-01 07:59"), tick=False):  # 30 April in UTC
        assert period_parse() == Period.month(2026, 5)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-00"}, "period"),
        ({"period": "2026-3"}, "period"),
        ({"period": "1999-12"}, "period"),
        ({"period": "2026-03", "date_from": "2026-03-01"}, "period"),
        ({"date_from": "2026-03-01"}, "to"),
        ({"date_to": "2026-03-01"}, "from"),
        ({"date_from": "2026-02-30", "date_to": "2026-03-01"}, "from"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-04"}, "to"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02"}, "to"),
    ],
)
def test_bad_periods_name_the_field(given, field):
    with pytest.raises(InvalidInput) as error:
        period_parse(**given)

    assert field in error.value.fields


def test_the_level_is_department_or_street():
    assert (level_parse(None), level_parse("street")) == ("department", "street")
    with pytest.raises(InvalidInput) as error:
        level_parse("x")
    assert error.value.fields == {"level": ["The level is department or street."]}

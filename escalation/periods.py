"""Periods of the evaluation: a calendar month or any range of local days, and how requests name them.

Days are local (settings.TIME_ZONE, Asia/Shanghai): a period runs from the
local midnight starting its first day to the one after its last day. The
previous period of a month is the month before; of a range, as many days
ending the day before it starts.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput

# The longest period a query may ask for: a year and a day (a leap year's 366 days).
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local calendar dates from `first` to `last`, both included; a calendar month or any range of days."""

    first: date
    last: date

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def current_month(cls, now: datetime | None = None) -> "Period":
        today = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()
        return cls.month(today.year, today.month)

    @property
    def is_month(self) -> bool:
        return self.first.day == 1 and self == Period.month(self.first.year, self.first.month)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        """2026-03 for a month, 2026-03-01–2026-03-15 for a range."""
        if self.is_month:
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}–{self.last.isoformat()}"

    @property
    def slug(self) -> str:
        """The label as a file name can carry it: 2026-03, 2026-03-01_2026-03-15."""
        return self.label.replace("–", "_")

    @property
    def start(self) -> datetime:
        """Local midnight at the start of the first day, aware."""
        return _local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day, aware: the period is [start, end)."""
        return _local_midnight(self.last + timedelta(days=1))

    def previous(self) -> "Period":
        """The month before a month; else as many days, ending the day before this period starts."""
        if self.is_month:
            last = self.first - timedelta(days=1)
            return Period.month(last.year, last.month)
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def following(self) -> "Period":
        """The month after a month; else as many days, starting the day after this period ends."""
        if self.is_month:
            first = self.last + timedelta(days=1)
            return Period.month(first.year, first.month)
        return Period(self.last + timedelta(days=1), self.last + timedelta(days=self.days))


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def period_parse(
    *, period: str | None = None, date_from: str | None = None, date_to: str | None = None, now: datetime | None = None
) -> Period:
    """The period a request names: `period` YYYY-MM, or `from` and `to` dates (YYYY-MM-DD); default this month.

    Bad input raises InvalidInput naming the field (period, from, to) and the rule.
    """
    period, date_from, date_to = (
        value.strip() if isinstance(value, str) else "" for value in (period, date_from, date_to)
    )
    if period and (date_from or date_to):
        raise InvalidInput(fields={"period": [_("Give either a month (period) or dates (from, to), not both.")]})
    if period:
        return _month(period)
    if not (date_from or date_to):
        return Period.current_month(now)
    errors: dict[str, list[str]] = {}
    first = _day(date_from, "from", errors)
    last = _day(date_to, "to", errors)
    if errors:
        raise InvalidInput(fields=errors)
    if last < first:
        raise InvalidInput(fields={"to": [_("The end date must not be before the start date.")]})
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(fields={"to": [_("A period spans at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}]})
    return Period(first, last)


def month_parse(value: str | None, *, field: str = "period", now: datetime | None = None) -> Period:
    """A month given as YYYY-MM (this month when empty); bad input names `field`."""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        return Period.current_month(now)
    return _month(value, field=field)


def _month(value: str, *, field: str = "period") -> Period:
    match = MONTH.match(value)
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        raise InvalidInput(
            fields={
                field: [_("Give the month as YYYY-MM, e.g. 2026-03: a year from 2000 to 2100, a month from 01 to 12.")]
            }
        )
    return Period.month(int(match[1]), int(match[2]))


def _day(value: str, name: str, errors: dict) -> date | None:
    if not value:
        errors[name] = [_("Give both dates, from and to, as YYYY-MM-DD.")]
        return None
    try:
        day = date.fromisoformat(value) if DAY.match(value) else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        errors[name] = [_("Give a date as YYYY-MM-DD, e.g. 2026-03-01, in the years 2000 to 2100.")]
    return day

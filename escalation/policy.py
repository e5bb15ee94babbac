"""Deadline arithmetic: windows in clock or working time over China's work calendar.

``deadline()`` and ``warning_at()`` are pure: they take a ``Calendar`` (an
immutable snapshot of the exception days, the complete years and the working
hours) and touch no database. ``current_calendar()`` gives the snapshot of the
database, built once per process and kept until the version stamp
(CalendarVersion, renewed in the same transaction as any change to the
calendar, the working hours or a deadline policy) differs; each call pays one
primary-key read to check it.

Working time, exactly:

- Only time inside the working hours (default 08:30–17:30, local time) of a
  working day counts. A working day is Monday to Friday unless a
  WorkCalendarDay row says otherwise (a holiday, or an adjusted working
  Saturday or Sunday). Years without rows count Monday to Friday.
- A start outside working hours (at night, on a rest day, at or after the end
  of the day) counts from the start of the next working period.
- N working days are N times the length of a working day in working time:
  Monday 10:00 + 1 working day = Tuesday 10:00; Saturday 10:00 + 1 working
  day = Monday 17:30; Friday 16:00 + 1 working day = Monday 16:00.
- A deadline that falls exactly at the end of a working day stays there
  (17:30), never the next morning.
- Clock minutes and hours are plain elapsed time, night and holidays included.

This module imports nothing of the whistle app, which calls it.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from zoneinfo import ZoneInfo

from django.conf import settings

from config.stamps import StampedCache, read_stamp, renew_stamp
from escalation.models import (
    MAX_WINDOW_AMOUNT,
    MAX_WINDOW_DAYS,
    CalendarVersion,
    SlaPolicy,
    WindowUnit,
    WorkCalendarDay,
    WorkCalendarYear,
    WorkSchedule,
)

ZERO = dt.timedelta(0)
ONE_DAY = dt.timedelta(days=1)
MICROSECOND = dt.timedelta(microseconds=1)
CLOCK_UNITS = {WindowUnit.MINUTES.value: dt.timedelta(minutes=1), WindowUnit.HOURS.value: dt.timedelta(hours=1)}
DEFAULT_DAY_START = dt.time(8, 30)
DEFAULT_DAY_END = dt.time(17, 30)
# A search for working days gives up after this many calendar days: only a
# calendar that marks years on end as holidays gets there.
MAX_SCAN_DAYS = 2 * MAX_WINDOW_DAYS


class DeadlineError(ValueError):
    """A window, ratio or calendar from which no deadline can be computed."""


@dataclass(frozen=True, slots=True)
class Window:
    """A deadline window: ``amount`` of ``unit`` (minutes, hours, working_hours, working_days)."""

    amount: int
    unit: str

    def __post_init__(self):
        if self.unit not in MAX_WINDOW_AMOUNT:
            raise DeadlineError(f"Unknown window unit {self.unit!r}: use one of {', '.join(WindowUnit.values)}.")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise DeadlineError(f"A window amount is a whole number, not {self.amount!r}.")
        if self.amount < 1:
            raise DeadlineError(f"A window amount must be at least 1, not {self.amount}.")
        if self.amount > MAX_WINDOW_AMOUNT[self.unit]:
            raise DeadlineError(
                f"A window of {self.amount} {self.unit} reaches more than {MAX_WINDOW_DAYS} days ahead."
            )


@dataclass(frozen=True, eq=False)
class Calendar:
    """Immutable snapshot of the work calendar and the working hours.

    ``exceptions`` maps each date that differs from Monday to Friday to whether
    it is a working day; ``complete_years`` are the years whose holidays are
    all entered. Build one by hand for a test, or take the database's from
    ``current_calendar()``.
    """

    exceptions: Mapping[dt.date, bool] = field(default_factory=dict)
    complete_years: frozenset[int] = frozenset()
    day_start: dt.time = DEFAULT_DAY_START
    day_end: dt.time = DEFAULT_DAY_END
    timezone: dt.tzinfo | None = None
    day_length: dt.timedelta = field(init=False)
    _by_ordinal: dict[int, bool] = field(init=False, repr=False)

    def __post_init__(self):
        # Private copies: the snapshot is shared between threads and never changes.
        set_ = object.__setattr__
        set_(self, "exceptions", MappingProxyType(dict(self.exceptions)))
        set_(self, "_by_ordinal", {day.toordinal(): working for day, working in self.exceptions.items()})
        set_(self, "complete_years", frozenset(self.complete_years))
        set_(self, "timezone", self.timezone or ZoneInfo(settings.TIME_ZONE))
        if self.day_start.tzinfo or self.day_end.tzinfo:
            raise DeadlineError("Working hours are local wall-clock times without a time zone.")
        length = dt.datetime.combine(dt.date.min, self.day_end) - dt.datetime.combine(dt.date.min, self.day_start)
        if length <= ZERO:
            raise DeadlineError(f"The working day must end after it starts ({self.day_start}–{self.day_end}).")
        set_(self, "day_length", length)

    def is_working_day(self, day: dt.date) -> bool:
        working = self.exceptions.get(day)
        return day.weekday() < 5 if working is None else working

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Those of ``years`` whose holidays are not all entered (they count Monday to Friday)."""
        return sorted(set(years) - self.complete_years)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.working_days_after(day, 1)

    def working_days_after(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day strictly after ``day`` (``day`` itself when count is 0)."""
        # Day by day, on day numbers rather than date objects (about twice as
        # fast): at most about 1.4 calendar days per working day, each a
        # dictionary lookup, so even 15 working days cost a few µs.
        by_ordinal = self._by_ordinal
        start = ordinal = day.toordinal()
        while count:
            ordinal += 1
            working = by_ordinal.get(ordinal)
            # Ordinal 1 (1 January of year 1) was a Monday.
            if (ordinal - 1) % 7 < 5 if working is None else working:
                count -= 1
            elif ordinal - start > MAX_SCAN_DAYS:
                raise DeadlineError(
                    f"No working day found within {MAX_SCAN_DAYS} days after {day}: check the work calendar."
                )
        return dt.date.fromordinal(ordinal)

    def add_working_time(self, start: dt.datetime, work: dt.timedelta) -> dt.datetime:
        """The moment ``work`` of working time after ``start`` has been spent (see the module notes)."""
        if work <= ZERO:
            raise DeadlineError("A working-time window must be longer than zero.")
        local = _aware(start).astimezone(self.timezone)
        day = local.date()
        wall = local.replace(tzinfo=None)
        closing = dt.datetime.combine(day, self.day_end)
        if wall < closing and self.is_working_day(day):
            offset = max(wall - dt.datetime.combine(day, self.day_start), ZERO)
        else:
            day, offset = self.next_working_day(day), ZERO
        # Whole working days to move forward, and the working time spent on the last one.
        days, rest = divmod(offset + work, self.day_length)
        if not rest:
            # Exactly at the end of a working day: it stays there, not the next morning.
            days, rest = days - 1, self.day_length
        if days > MAX_WINDOW_DAYS:
            raise DeadlineError(f"The deadline would be more than {MAX_WINDOW_DAYS} working days ahead.")
        day = self.working_days_after(day, days)
        # Wall-clock time inside a working day: exact for Asia/Shanghai, which
        # has no daylight-saving changes.
        return (dt.datetime.combine(day, self.day_start) + rest).replace(tzinfo=self.timezone)

    def working_time(self, window: Window) -> dt.timedelta:
        if window.unit == WindowUnit.WORKING_DAYS:
            return window.amount * self.day_length
        if window.unit == WindowUnit.WORKING_HOURS:
            return dt.timedelta(hours=window.amount)
        raise DeadlineError(f"{window.unit!r} is clock time, not working time.")


def _aware(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise DeadlineError(f"Deadlines start from an aware datetime, not {moment!r}.")
    return moment


def _ratio(ratio) -> Fraction:
    try:
        share = Fraction(Decimal(str(ratio))) if isinstance(ratio, float) else Fraction(ratio)
    except (TypeError, ValueError, ArithmeticError):
        raise DeadlineError(f"A warning ratio is a number between 0 and 1, not {ratio!r}.") from None
    if not 0 < share < 1:
        raise DeadlineError(f"A warning ratio is more than 0 and less than 1, not {ratio}.")
    return share


def _scale(span: dt.timedelta, share: Fraction) -> dt.timedelta:
    # Exact rational arithmetic, rounded down to the microsecond.
    return MICROSECOND * (span // MICROSECOND * share.numerator // share.denominator)


def _add_clock(start: dt.datetime, span: dt.timedelta, calendar: Calendar) -> dt.datetime:
    # Elapsed time, so add in UTC (local wall-clock addition would be wrong
    # across a daylight-saving change, were TIME_ZONE ever to have one).
    return (_aware(start).astimezone(dt.UTC) + span).astimezone(calendar.timezone)


def deadline(start: dt.datetime, window: Window, calendar: Calendar) -> dt.datetime:
    """When ``window`` ends for something started at ``start``; aware, in the calendar's time zone. No database."""
    if window.unit in CLOCK_UNITS:
        return _add_clock(start, window.amount * CLOCK_UNITS[window.unit], calendar)
    return calendar.add_working_time(start, calendar.working_time(window))


def warning_at(start: dt.datetime, window: Window, ratio, calendar: Calendar) -> dt.datetime:
    """The moment ``ratio`` (0 < ratio < 1) of ``window`` has passed, counted like deadline(). No database."""
    share = _ratio(ratio)
    if window.unit in CLOCK_UNITS:
        return _add_clock(start, _scale(window.amount * CLOCK_UNITS[window.unit], share), calendar)
    return calendar.add_working_time(start, _scale(calendar.working_time(window), share))


# Policies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageDeadlines:
    """The due and warning (黄灯) moments of the three stages of a task."""

    acknowledge_due: dt.datetime
    acknowledge_warning_at: dt.datetime
    checkin_due: dt.datetime
    checkin_warning_at: dt.datetime
    resolve_due: dt.datetime
    resolve_warning_at: dt.datetime
    requires_joint_meeting: bool


def policy_windows(policy: SlaPolicy) -> dict[str, Window]:
    """The acknowledge, checkin and resolve windows of a policy."""
    return {
        stage: Window(getattr(policy, f"{stage}_amount"), getattr(policy, f"{stage}_unit"))
        for stage in ("acknowledge", "checkin", "resolve")
    }


def stage_deadlines(
    *, grade: str, start: dt.datetime, calendar: Calendar | None = None, policy: SlaPolicy | None = None
) -> StageDeadlines:
    """The deadlines of a task of ``grade`` started at ``start``.

    Without ``calendar`` or ``policy`` they come from the process's snapshot:
    one primary-key read of the version stamp, nothing more while it holds.
    Given the calendar that current_calendar() returned, the policy comes from
    the same snapshot without another read: a caller routing a batch checks
    the stamp once.
    """
    if calendar is None or policy is None:
        snapshot = _snapshots.cached
        if calendar is None or snapshot is None or snapshot.calendar is not calendar:
            snapshot = _snapshots.get()
        if calendar is None:
            calendar = snapshot.calendar
        if policy is None:
            try:
                policy = snapshot.policies[grade]
            except KeyError:
                raise DeadlineError(
                    f"There is no deadline policy for the grade {grade!r}: add one in the administration."
                ) from None
    if policy.grade != grade:
        raise DeadlineError(f"The policy given is for the grade {policy.grade!r}, not {grade!r}.")
    windows = policy_windows(policy)
    moments = {}
    for stage, window in windows.items():
        moments[f"{stage}_due"] = deadline(start, window, calendar)
        moments[f"{stage}_warning_at"] = warning_at(start, window, policy.warning_ratio, calendar)
    return StageDeadlines(**moments, requires_joint_meeting=policy.requires_joint_meeting)


def warning_ratio(grade: str) -> Decimal:
    """The share of a window after which a task of ``grade`` turns yellow (e.g. to move a deadline later)."""
    try:
        return _snapshots.get().policies[grade].warning_ratio
    except KeyError:
        raise DeadlineError(
            f"There is no deadline policy for the grade {grade!r}: add one in the administration."
        ) from None


# The process's snapshot -------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    calendar: Calendar
    policies: Mapping[str, SlaPolicy]  # shared instances: read-only


def calendar_version() -> int:
    return read_stamp(CalendarVersion)


def bump_calendar_version() -> None:
    """Tell every process its snapshot is stale; call inside the transaction that made the change."""
    renew_stamp(CalendarVersion)


def load_calendar() -> Calendar:
    """A fresh snapshot of the database's calendar and working hours (three queries)."""
    schedule = WorkSchedule.objects.filter(pk=1).first()
    return Calendar(
        exceptions=dict(WorkCalendarDay.objects.values_list("date", "is_working_day")),
        complete_years=frozenset(WorkCalendarYear.objects.filter(complete=True).values_list("year", flat=True)),
        day_start=schedule.day_start if schedule else DEFAULT_DAY_START,
        day_end=schedule.day_end if schedule else DEFAULT_DAY_END,
    )


def _build_snapshot(_stamp: int) -> _Snapshot:
    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    return _Snapshot(load_calendar(), MappingProxyType(policies))


_snapshots: StampedCache[_Snapshot] = StampedCache(CalendarVersion, _build_snapshot)


def current_calendar() -> Calendar:
    """The database's calendar, as of the latest stamp; one cheap read when nothing changed."""
    return _snapshots.get().calendar


# The escalation ladder ----------------------------------------------------------------

# The stage whose deadlines a task in each open status runs against.
LADDER_STAGES = {"pending": "acknowledge", "acknowledged": "checkin", "checked_in": "resolve"}
SUPERVISION, ACCOUNTABILITY = "supervision", "accountability"
# When each step fired; a task carries these (whistle.models.Task), duck-typed here.
# The marks of the stages' own steps: a task summoned again or reopened does its stages again.
STAGE_MARKS = (
    "acknowledge_warned_at",
    "acknowledge_overdue_at",
    "checkin_warned_at",
    "checkin_overdue_at",
    "resolve_warned_at",
    "resolve_overdue_at",
)
# Supervision and accountability come once per task, whatever rounds it goes through.
LADDER_MARKS = (*STAGE_MARKS, "supervised_at", "accountable_at")


def ladder_next(task, *, grade: str, calendar: Calendar | None = None) -> tuple[dt.datetime | None, str]:
    """The next step of the escalation ladder due for ``task``, and when: ``(moment, step)`` or ``(None, "")``.

    The current stage warns (yellow) at its warning moment, then is overdue
    (red) at its deadline; a task overdue gets a supervision order once the
    policy's delay has passed (at once for a zero delay), then an
    accountability record after the second delay — each of these two once per
    task. A finished task has no next step.
    """
    stage = LADDER_STAGES.get(task.status)
    if stage is None:
        return None, ""
    due, warn = getattr(task, f"{stage}_due_at"), getattr(task, f"{stage}_warn_at")
    if getattr(task, f"{stage}_overdue_at") is None:
        if getattr(task, f"{stage}_warned_at") is None and warn < due:
            return warn, f"{stage}_warning"
        return due, f"{stage}_overdue"
    snapshot = _snapshots.get()
    calendar = calendar or snapshot.calendar
    try:
        policy = snapshot.policies[grade]
    except KeyError:
        raise DeadlineError(
            f"There is no deadline policy for the grade {grade!r}: add one in the administration."
        ) from None
    if task.supervised_at is None:
        return _after(due, policy.supervise_after_amount, policy.supervise_after_unit, calendar), SUPERVISION
    if task.accountable_at is None:
        return _after(due, policy.accountable_after_amount, policy.accountable_after_unit, calendar), ACCOUNTABILITY
    return None, ""


def supervision_reply_by(start: dt.datetime, *, grade: str, calendar: Calendar | None = None) -> dt.datetime:
    """When a department must answer a supervision order issued at ``start``."""
    snapshot = _snapshots.get()
    policy = snapshot.policies[grade]
    return _after(start, policy.reply_within_amount, policy.reply_within_unit, calendar or snapshot.calendar)


def _after(moment: dt.datetime, amount: int, unit: str, calendar: Calendar) -> dt.datetime:
    return moment if amount == 0 else deadline(moment, Window(amount, unit), calendar)

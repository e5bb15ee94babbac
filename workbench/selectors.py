"""Read queries of the workbenches: what each role's start page shows, always through the user's scope.

Each workbench reuses the lists of the pages it links to (whistle, task and
supervision selectors), cut to their first rows, and adds up its counts in a
fixed number of aggregate queries per kind of row (one or two), so a page costs
the same number of queries for ten rows or ten thousand.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import DEPARTMENT_ROLES, STREET_ROLES, Membership
from escalation.permissions import is_supervisor
from escalation.selectors import DashboardCounts, UnitCounts, local_day_start
from whistle import selectors as whistle_selectors
from whistle.models import Extension, Task, Whistle
from whistle.permissions import access_task, membership_of, task_scope, whistle_scope
from whistle.services.street import STREET_DECIDERS
from whistle.street_selectors import whistles_to_rate
from whistle.task_selectors import TASK_RELATIONS, task_actions, task_counts, task_list, with_stage

R, S = Membership.Role, Whistle.Status
# How many rows each short list of a workbench shows before its "see all" link.
LIST_SIZE = 10
# The department's open tasks are its day's work: a longer first page.
TASK_ROWS = 20
# Units per bar chart of the supervisor's workbench, and days of its trend line.
CHART_TOP = 15
TREND_DAYS = 30

STREET, DEPARTMENT, SUPERVISOR = "street", "department", "supervisor"


def workbench_of(user) -> str | None:
    """Which workbench the user's role has: street, department, supervisor, or None (the hotline, a user without a unit)."""
    membership = membership_of(user)
    if membership is not None and membership.role in STREET_ROLES:
        return STREET
    if membership is not None and membership.role in DEPARTMENT_ROLES:
        return DEPARTMENT
    if is_supervisor(user):
        return SUPERVISOR
    return None


# The street ----------------------------------------------------------------------------------


@dataclass
class StreetWorkbench:
    """What the street's workbench shows; a list is None when the user's role has no such work."""

    counts: list[tuple[str, str, int]]  # (status, label, count) of the street's whistles
    total: int
    confirm: list[Whistle] | None = None
    confirm_count: int = 0
    rate: list[Whistle] | None = None
    approvals: list[Whistle] | None = None
    approvals_count: int = 0
    queue: list[Whistle] | None = None
    queue_count: int = 0


def street_whistle_counts(*, user) -> dict[str, int]:
    """How many of the street's whistles are in each status, and in all: one query."""
    counts = {status: Count("pk", filter=Q(status=status)) for status in S.values}
    return whistle_scope(user).order_by().aggregate(total=Count("pk"), **counts)


def street_workbench(*, user) -> StreetWorkbench:
    """The street's whistles by status and the short lists of what waits for this user's role."""
    membership = membership_of(user)
    role = membership.role if membership else None
    counts = street_whistle_counts(user=user)
    bench = StreetWorkbench(
        counts=[(status, label, counts[status]) for status, label in S.choices],
        total=counts["total"],
    )
    if role in STREET_DECIDERS:
        bench.confirm = list(
            whistle_selectors.whistle_list(user=user)
            .filter(street_id=membership.street_id, status=S.RESOLVED)
            .order_by("resolved_at", "pk")[:LIST_SIZE]
        )
        bench.confirm_count = counts[S.RESOLVED]
        bench.rate = list(whistles_to_rate(user=user)[:LIST_SIZE])
    waiting = whistle_selectors.approval_statuses(role)
    if waiting:
        bench.approvals = list(whistle_selectors.whistle_approvals(user=user)[:LIST_SIZE])
        bench.approvals_count = sum(counts[status] for status in waiting)
    if role == R.DISPATCHER:
        bench.queue = list(whistle_selectors.whistle_queue(user=user)[:LIST_SIZE])
        bench.queue_count = counts[S.AWAITING_DISPATCH]
    return bench


# The department ------------------------------------------------------------------------------


def _department_tasks(user, *, now: datetime) -> QuerySet[Task]:
    """The open tasks of the user's own department, nearest deadline first, with stage, light and pending extension.

    Tasks of other departments granted to the user (act_on_task) are on the
    task list, not here: the workbench is the department's own work.
    """
    membership = membership_of(user)
    department_id = membership.department_id if membership else None
    return (
        task_list(user=user, now=now)
        .filter(department_id=department_id, status__in=Task.OPEN_STATUSES)
        .prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.filter(status=Extension.Status.PENDING).order_by())
        )
    )


def _with_actions(user, tasks: list[Task]) -> list[Task]:
    """Each task with `actions`: what the user may do to it now (task_actions, no query with extensions prefetched)."""
    for task in tasks:
        task.actions = task_actions(user=user, task=task)
    return tasks


def department_task_rows(*, user, now: datetime) -> list[Task]:
    return _with_actions(user, list(_department_tasks(user, now=now)[:TASK_ROWS]))


def department_task_counts(*, user, now: datetime) -> dict[str, int]:
    """The department's open tasks by status and light: two queries (task_counts)."""
    membership = membership_of(user)
    department_id = membership.department_id if membership else None
    tasks = task_scope(user).filter(department_id=department_id, status__in=Task.OPEN_STATUSES)
    counts = task_counts(tasks, now=now)
    counts["open"] = sum(counts[status] for status in Task.OPEN_STATUSES)
    return counts


def department_task_row(*, user, task_id, now: datetime) -> Task:
    """One task of the user's scope as a workbench row (stage, light, actions); NotFound if not visible."""
    queryset = (
        with_stage(Task.objects.all(), now=now)
        .select_related(*TASK_RELATIONS)
        .prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.filter(status=Extension.Status.PENDING).order_by())
        )
    )
    return _with_actions(user, [access_task(user, task_id, queryset=queryset)])[0]


def remaining_time(due: datetime, now: datetime) -> tuple[str, bool]:
    """The time left before `due` in words ("2 h 15 min left"), or how late ("overdue by 1 d 3 h"); and whether late.

    Whole minutes, rounded down; the two largest units. static/js/workbench.js
    writes the same words, every minute, from the templates of countdown_words().
    """
    seconds = (due - now).total_seconds()
    late = seconds < 0
    words = countdown_words()
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [words["day"] % {"n": days}, words["hour"] % {"n": hours}]
    elif hours:
        parts = [words["hour"] % {"n": hours}, words["minute"] % {"n": minutes}]
    else:
        parts = [words["minute"] % {"n": minutes}]
    span = " ".join(parts)
    return (words["late"] if late else words["left"]) % {"time": span}, late


def countdown_words() -> dict[str, str]:
    """The translated pieces of a countdown; the page gives them to the script as data-* attributes."""
    return {
        # Translators: a number of days in a countdown, e.g. "1 d 3 h".
        "day": _("%(n)s d"),
        # Translators: a number of hours in a countdown, e.g. "2 h 15 min".
        "hour": _("%(n)s h"),
        # Translators: a number of minutes in a countdown.
        "minute": _("%(n)s min"),
        "left": _("%(time)s left"),
        "late": _("overdue by %(time)s"),
    }


# The supervisor ------------------------------------------------------------------------------


@dataclass
class BarChart:
    """One bar chart of the supervisor's workbench and the table behind it: units with their count, largest first."""

    key: str
    title: str
    kind: str  # "overdue" or "warning": the colour of the bars
    unit: str  # "department" or "street": the dashboard's filter that lists a unit's late tasks
    unit_label: str
    rows: list[dict] = field(default_factory=list)  # {"code", "name", "value"}


def _top(units: list[UnitCounts], attribute: str) -> list[dict]:
    ranked = sorted((u for u in units if getattr(u, attribute)), key=lambda u: (-getattr(u, attribute), u.code))
    return [{"code": u.code, "name": u.name, "value": getattr(u, attribute)} for u in ranked[:CHART_TOP]]


def bar_charts(counts: DashboardCounts) -> list[BarChart]:
    """Overdue and warning tasks by department and by street, the top CHART_TOP units of each (from the tally)."""
    department, street = ("department", _("Department")), ("street", _("Street"))
    return [
        BarChart(
            "overdue-department",
            _("Overdue tasks by department"),
            "overdue",
            *department,
            _top(counts.by_department, "overdue"),
        ),
        BarChart(
            "warning-department",
            _("Warning tasks by department"),
            "warning",
            *department,
            _top(counts.by_department, "warning"),
        ),
        BarChart("overdue-street", _("Overdue tasks by street"), "overdue", *street, _top(counts.by_street, "overdue")),
        BarChart("warning-street", _("Warning tasks by street"), "warning", *street, _top(counts.by_street, "warning")),
    ]


def _per_day(rows: QuerySet, moment: str, days: list[date]) -> list[int]:
    """How many of `rows` fall on each local day of `days` by their `moment` field: one grouped query, 0 for none.

    The range is on the bare column, so the query reads the window from the column's index
    (whistle_submitted_cover_idx, whistle_closed_cover_idx), not every row of the scope.
    """
    start, end = local_day_start(days[0]), local_day_start(days[-1] + timedelta(days=1))
    grouped = (
        rows.filter(**{f"{moment}__gte": start, f"{moment}__lt": end})
        .order_by()
        .annotate(day=TruncDate(moment, tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("*"))  # not the id: the index alone answers, without a visit to the rows
    )
    found = {row["day"]: row["n"] for row in grouped}
    return [found.get(day, 0) for day in days]


# The marks the sweep sets on a task when one of its stages goes overdue (escalation.services).
OVERDUE_MARKS = ("acknowledge_overdue_at", "checkin_overdue_at", "resolve_overdue_at")


def _went_overdue_between(start: datetime, end: datetime) -> Q:
    """A task with a stage gone overdue from `start` (included) to `end` (excluded)."""
    condition = Q()
    for mark in OVERDUE_MARKS:
        condition |= Q(**{f"{mark}__gte": start, f"{mark}__lt": end})
    return condition


def _overdue_per_day(tasks: QuerySet[Task], days: list[date]) -> list[int]:
    """How many of `tasks` went overdue on each local day of `days`, by their overdue marks: one query.

    One conditional count per day, over the tasks with a mark in the window
    (read from the marks' partial indexes), so a task counts once on a day
    however many of its stages went overdue that day.
    """
    starts = [local_day_start(day) for day in [*days, days[-1] + timedelta(days=1)]]
    counts = {
        f"d{index}": Count("pk", filter=_went_overdue_between(start, end))
        for index, (start, end) in enumerate(zip(starts, starts[1:], strict=False))
    }
    found = tasks.filter(_went_overdue_between(starts[0], starts[-1])).order_by().aggregate(**counts)
    return [found[f"d{index}"] for index in range(len(days))]


def daily_trend(*, user, today: date, days: int = TREND_DAYS) -> dict:
    """Whistles raised and closed, and tasks gone overdue, on each of the last `days` local days up to `today`.

    Raised is counted by submission (a draft is not raised yet), closed by the
    street's confirmation, gone overdue by the marks the sweep freezes on the
    task when a stage's deadline passes (`acknowledge_overdue_at`,
    `checkin_overdue_at`, `resolve_overdue_at`): a task counts once on each day
    one of its stages went overdue (late at two stages on one day: once). The
    marks are the task's current round, as the evaluation reads them: an
    approved extension withdraws the resolution overdue it ends, and a
    reopened task starts its marks afresh (the earlier round stays in its
    events, which this chart does not read: scanning them cost more than the page).
    """
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    whistles = whistle_scope(user)
    return {
        "title": _("Daily trend, last %(days)d days") % {"days": days},
        "days": dates,
        "series": [
            {"key": "raised", "name": _("Whistles raised"), "values": _per_day(whistles, "submitted_at", dates)},
            {"key": "closed", "name": _("Whistles closed"), "values": _per_day(whistles, "closed_at", dates)},
            {
                "key": "overdue",
                "name": _("Tasks gone overdue"),
                "values": _overdue_per_day(task_scope(user), dates),
            },
        ],
    }


def trend_rows(trend: dict) -> list[dict]:
    """The trend as table rows: one per day, newest first, with each series' count."""
    series = trend["series"]
    return [
        {"day": day, "values": [s["values"][index] for s in series]}
        for index, day in reversed(list(enumerate(trend["days"])))
    ]


def chart_data(charts: list[BarChart], trend: dict) -> dict:
    """Everything the charts draw, for json_script: plain lists and strings, the titles translated."""
    return {
        "bars": [{"key": chart.key, "title": chart.title, "kind": chart.kind, "rows": chart.rows} for chart in charts],
        "trend": {
            "title": trend["title"],
            "days": [day.isoformat() for day in trend["days"]],
            "series": trend["series"],
        },
    }

"""Read queries of the supervisor views: the overdue dashboard, supervision orders, the accountability ledger.

Everything here is set-based: the counts per department and per street are
one GROUP BY each over the tasks of the user's scope (the traffic light is the
SQL annotation of whistle.task_selectors.with_stage), the task rows one page
query with their whistle, street, category and department joined in, and the
orders and records lists one query a page. Python only adds up the grouped
rows (one per department or street, never one per task).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation.models import AccountabilityNote, AccountabilityRecord, OpenTaskTally, SupervisionOrder
from escalation.permissions import access_order, access_record, order_scope, record_scope
from whistle.models import Event, Task
from whistle.permissions import access_task, membership_of, task_scope
from whistle.task_selectors import RED, TASK_RELATIONS, YELLOW, light_of, task_event_labels, with_stage

OrderStatus = SupervisionOrder.Status
# The status filter of the orders list: the stored statuses, and "overdue" (open past its reply-by time).
OVERDUE = "overdue"
ORDER_FILTERS = (OrderStatus.OPEN, OrderStatus.ANSWERED, OVERDUE, OrderStatus.CLOSED)
ORDER_RELATIONS = (
    "task__whistle__street",
    "task__whistle__category",
    "task__department",
    "opened_by",
    "replied_by",
    "closed_by",
)
RECORD_RELATIONS = ("department", "whistle__street", "order")
# How many of the latest overdue orders and records the dashboard shows beside their counts.
DASHBOARD_PREVIEW = 10


# The overdue dashboard ---------------------------------------------------------------------


def local_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the display time zone (Asia/Shanghai), aware."""
    return timezone.make_aware(datetime.combine(day, time.min))


def created_between(tasks: QuerySet[Task], start: date | None, end: date | None) -> QuerySet[Task]:
    """The tasks created on the local dates from ``start`` to ``end``, both included (either may be open)."""
    if start:
        tasks = tasks.filter(created_at__gte=local_day_start(start))
    if end:
        tasks = tasks.filter(created_at__lt=local_day_start(end + timedelta(days=1)))
    return tasks


def open_tasks(*, user, now: datetime) -> QuerySet[Task]:
    """The open tasks of the user's scope, annotated with their stage and light (with_stage); filter before use."""
    return with_stage(task_scope(user).filter(status__in=Task.OPEN_STATUSES), now=now)


@dataclass(frozen=True)
class UnitCounts:
    """One row of a count table: a department or a street, its open tasks and how many are yellow and red."""

    code: str
    name: str
    open: int
    warning: int
    overdue: int

    @property
    def overdue_share(self) -> float:
        """Overdue tasks as a share of the unit's open tasks (0 to 1)."""
        return self.overdue / self.open if self.open else 0.0

    @property
    def overdue_percent(self) -> int:
        return round(100 * self.overdue_share)


@dataclass(frozen=True)
class DashboardCounts:
    totals: UnitCounts
    by_department: list[UnitCounts]
    by_street: list[UnitCounts]
    counted_at: datetime | None = None  # when the tally was made


def _summed(rows: QuerySet[OpenTaskTally], code: str, name: str) -> list[UnitCounts]:
    sums = (
        rows.order_by()
        .values(code, name)
        .annotate(n_open=Sum("open"), n_warning=Sum("warning"), n_overdue=Sum("overdue"))
    )
    return [
        UnitCounts(
            code=row[code], name=row[name], open=row["n_open"], warning=row["n_warning"], overdue=row["n_overdue"]
        )
        for row in sums
    ]


def dashboard_counts(*, user, filters: dict, counted_at: datetime | None = None) -> DashboardCounts:
    """Warning and overdue counts per department and per street, from the tally of open tasks: two small queries.

    `filters` are the dashboard form's cleaned data (period, street,
    department, grade, category). Only units with a task in warning or
    overdue are listed, the most overdue first; the share overdue is of all
    the unit's open tasks under the same filters. The counts are as of the
    tally's `counted_at` (escalation.services.open_tasks_tally, every minute by beat).
    """
    rows = OpenTaskTally.objects.all()
    if not user.is_superuser:
        membership = membership_of(user)
        rows = rows.filter(district_id=membership.district_id if membership else None)
    if filters.get("created_from"):
        rows = rows.filter(created_on__gte=filters["created_from"])
    if filters.get("created_to"):
        rows = rows.filter(created_on__lte=filters["created_to"])
    for name in ("street", "department", "category", "grade"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    departments = _summed(rows, "department__code", "department__name")
    streets = _summed(rows, "street__code", "street__name")
    totals = UnitCounts(
        code="",
        name=_("All"),
        open=sum(row.open for row in departments),
        warning=sum(row.warning for row in departments),
        overdue=sum(row.overdue for row in departments),
    )

    def listed(units: list[UnitCounts]) -> list[UnitCounts]:
        late = [row for row in units if row.warning or row.overdue]
        return sorted(late, key=lambda row: (-row.overdue, -row.warning, -row.overdue_share, row.code))

    return DashboardCounts(
        totals=totals, by_department=listed(departments), by_street=listed(streets), counted_at=counted_at
    )


def late_count(counts: DashboardCounts, *, light: str = "") -> int:
    """How many rows late_tasks() has with this light, by the tally."""
    return {YELLOW: counts.totals.warning, RED: counts.totals.overdue}.get(
        light, counts.totals.warning + counts.totals.overdue
    )


def late_tasks(tasks: QuerySet[Task], *, light: str = "") -> QuerySet[Task]:
    """The warning (yellow) and overdue (red) tasks of `tasks` (open_tasks), oldest deadline first.

    Each row carries its whistle, street, category and department, and the id
    of its open supervision order if any (`open_order_id`), in the one query.
    """
    # The lights as with_stage's booleans, not `light__in`: see there why.
    condition = {RED: Q(past_due=True), YELLOW: Q(late=True, past_due=False)}.get(light, Q(late=True))
    open_order = SupervisionOrder.objects.filter(task=OuterRef("pk"), status=OrderStatus.OPEN).order_by("-created_at")
    return (
        tasks.filter(condition)
        .select_related(*TASK_RELATIONS)
        .annotate(open_order_id=Subquery(open_order.values("pk")[:1]))
        .order_by(F("stage_due_at").asc(), "pk")
    )


# Supervision orders --------------------------------------------------------------------------


def _with_overdue(orders: QuerySet[SupervisionOrder], now: datetime) -> QuerySet[SupervisionOrder]:
    return orders.annotate(
        overdue=Case(
            When(status=OrderStatus.OPEN, reply_by__lt=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def order_list(*, user, now: datetime | None = None, status: str = "") -> QuerySet[SupervisionOrder]:
    """The orders the user may see, with `overdue` annotated; by status (or "overdue"), newest first.

    Open and overdue orders come nearest reply-by date first: that is the order they are worked in.
    """
    now = now or timezone.now()
    orders = _with_overdue(order_scope(user).select_related(*ORDER_RELATIONS), now)
    if status == OVERDUE:
        return orders.filter(status=OrderStatus.OPEN, reply_by__lt=now).order_by("reply_by", "pk")
    if status == OrderStatus.OPEN:
        return orders.filter(status=OrderStatus.OPEN).order_by("reply_by", "pk")
    if status:
        return orders.filter(status=status)
    return orders.order_by("-created_at", "-pk")


def order_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    """How many orders the user sees in each status, and how many of the open ones are overdue: one query."""
    now = now or timezone.now()
    counts = {status: Count("pk", filter=Q(status=status)) for status in OrderStatus.values}
    counts[OVERDUE] = Count("pk", filter=Q(status=OrderStatus.OPEN, reply_by__lt=now))
    return order_scope(user).order_by().aggregate(total=Count("pk"), **counts)


def order_get(*, user, pk, now: datetime | None = None) -> SupervisionOrder:
    """One order with its task (stage and light), the task's events and the records it led to; NotFound if invisible."""
    now = now or timezone.now()
    queryset = (
        _with_overdue(SupervisionOrder.objects.all(), now)
        .select_related(*ORDER_RELATIONS)
        .prefetch_related(
            Prefetch("task__events", queryset=Event.objects.select_related("actor").order_by("created_at", "pk")),
            Prefetch("accountability", queryset=AccountabilityRecord.objects.order_by("created_at", "pk")),
        )
    )
    order = access_order(user, pk, queryset=queryset)
    # The task's light by the same rule as the lists' SQL annotation, without a query.
    order.task_light = light_of(order.task, now=now)
    return order


def order_task(*, user, task_id, now: datetime | None = None) -> Task:
    """A task of the user's scope to open an order on, with its stage and light; NotFound if invisible."""
    now = now or timezone.now()
    return access_task(user, task_id, queryset=with_stage(Task.objects.select_related(*TASK_RELATIONS), now=now))


# The accountability ledger -------------------------------------------------------------------


def _note_count() -> Coalesce:
    """A record's number of notes, as a subquery per row.

    Not Count("notes"): that groups every record of the scope by all its joined
    columns before the page's LIMIT applies (a sort of the whole ledger per page);
    a subquery is run for the rows shown only.
    """
    notes = (
        AccountabilityNote.objects.filter(record=OuterRef("pk"))
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(notes), 0)


def record_list(*, user, kind: str = "", department: str = "") -> QuerySet[AccountabilityRecord]:
    """The records the user may see, newest first, with their number of notes; by kind and department code."""
    records = record_scope(user).select_related(*RECORD_RELATIONS).annotate(note_count=_note_count())
    if kind:
        records = records.filter(kind=kind)
    if department:
        records = records.filter(department__code=department)
    return records.order_by("-created_at", "-pk")


def record_counts(*, user) -> dict[str, int]:
    """How many records of each kind the user sees: one query."""
    counts = {kind: Count("pk", filter=Q(kind=kind)) for kind in AccountabilityRecord.Kind.values}
    return record_scope(user).order_by().aggregate(total=Count("pk"), **counts)


def record_get(*, user, pk) -> AccountabilityRecord:
    """One record with its notes and linked events; NotFound if invisible."""
    queryset = (
        AccountabilityRecord.objects.select_related(*RECORD_RELATIONS, "task__department", "whistle__category")
        .annotate(note_count=_note_count())
        .prefetch_related(
            Prefetch(
                "notes", queryset=AccountabilityNote.objects.select_related("author").order_by("created_at", "pk")
            ),
            Prefetch("events", queryset=Event.objects.select_related("actor").order_by("created_at", "pk")),
        )
    )
    return access_record(user, pk, queryset=queryset)


# Timelines -----------------------------------------------------------------------------------


def event_labels() -> dict[str, str]:
    """The label of each event verb of a task, the task workflow's and the escalation ladder's."""
    return task_event_labels() | {
        "warning": _("warning (yellow light)"),
        "overdue": _("overdue (red light)"),
        "supervision_ordered": _("supervision order issued"),
        "order_answered": _("supervision order answered"),
        "order_closed": _("supervision order closed"),
        "order_unanswered": _("supervision order unanswered"),
        "accountability_recorded": _("accountability recorded"),
        "accountability_noted": _("accountability record annotated"),
    }


def stage_labels() -> dict[str, str]:
    return {"acknowledge": _("acknowledgement"), "checkin": _("check-in"), "resolve": _("resolution")}


def timeline(events) -> list[dict]:
    """Events for display (prefetched with their actors): time, label, actor, reason."""
    labels, stages = event_labels(), stage_labels()
    rows = []
    for event in events:
        label = labels.get(event.verb, event.verb)
        step = (event.new or {}).get("step", "") if isinstance(event.new, dict) else ""
        stage = step.rsplit("_", 1)[0] if event.verb in ("warning", "overdue") else ""
        if stage in stages:
            label = f"{label}: {stages[stage]}"
        rows.append(
            {
                "at": event.created_at,
                "verb": event.verb,
                "label": label,
                "actor": (event.actor.get_full_name() or event.actor.get_username())
                if event.actor_id
                else event.system_actor,
                "reason": event.reason,
            }
        )
    return rows

"""The deadline sweep and the escalation ladder; supervision orders and accountability records by hand.

The sweep is set-based (STYLE.md, rule 7). Due tasks are found through the
stored `Task.next_deadline_at` and its partial index, claimed a batch at a
time with `FOR UPDATE SKIP LOCKED` (on SQLite the single writer does the
same), and every step that has fallen due for a task fires in that pass:
its marker is set, the next step stored, its Event, supervision order or
accountability record written in bulk, the notices sent on commit. A step
whose marker is set never fires again, and a row another sweeper holds is
skipped, so two sweeps at once still fire each step once. A row that fails
is logged, put off for an hour and never holds up the others.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput, NotAllowed, text_input
from departments.models import Membership
from escalation.models import AccountabilityNote, AccountabilityRecord, OpenTaskTally, SupervisionOrder
from escalation.policy import (
    ACCOUNTABILITY,
    LADDER_MARKS,
    LADDER_STAGES,
    SUPERVISION,
    ladder_next,
    supervision_reply_by,
)
from monitoring.services import sweep_observed
from whistle.models import Event, Notification, Task, Whistle
from whistle.permissions import membership_of, require_role
from whistle.services.notify import notifications_store
from whistle.services.transitions import event_record
from whistle.task_selectors import RED, YELLOW, with_stage

logger = logging.getLogger(__name__)

SWEEPER = "sweeper"
SWEEP_BATCH = 500
# A row the sweep could not handle is tried again this much later.
RETRY_BAD_ROW = timedelta(hours=1)
# Returned this many times by departments: buck-passing (推诿).
BUCK_PASSING_RETURNS = 3  # the partial index whistle_returned_often_idx covers exactly these
TEXT_MAX_LENGTH = 4000
R = Membership.Role
OrderStatus = SupervisionOrder.Status


@dataclass
class SweepResult:
    steps: Counter = field(default_factory=Counter)
    failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.steps.values())


@sweep_observed
def deadlines_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Fire every ladder step that has fallen due, then the unanswered orders and the buck-passing."""
    now = now or timezone.now()
    result = SweepResult()
    if connection.vendor == "postgresql":
        while _sweep_warnings_in_sql(now=now, batch=WARNING_BATCH, result=result) == WARNING_BATCH:
            pass
    while _sweep_tasks(now=now, batch=batch, result=result) == batch:
        pass
    while _sweep_unanswered_orders(now=now, batch=batch, result=result) == batch:
        pass
    _sweep_buck_passing(now=now, result=result)
    if result.total or result.failed:
        logger.info("sweep: %s; %d rows failed", dict(result.steps), result.failed)
    return result


# Tasks --------------------------------------------------------------------------------

# Most steps at city scale are warnings, and a warning's next step is its stage's
# own deadline, a column: on PostgreSQL one statement claims a batch of them,
# moves them on, and writes their events and notices (not worth an e-mail).
# The general path below does the same for everything else, and everything on SQLite.
WARNING_BATCH = 5000
WARNING_SQL = """
WITH due AS (
    SELECT id FROM {task}
    WHERE next_deadline_at <= %(now)s AND next_step IN ('acknowledge_warning', 'checkin_warning', 'resolve_warning')
    ORDER BY next_deadline_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE {task} AS t SET
        acknowledge_warned_at = CASE WHEN t.next_step = 'acknowledge_warning' THEN %(now)s ELSE t.acknowledge_warned_at END,
        checkin_warned_at = CASE WHEN t.next_step = 'checkin_warning' THEN %(now)s ELSE t.checkin_warned_at END,
        resolve_warned_at = CASE WHEN t.next_step = 'resolve_warning' THEN %(now)s ELSE t.resolve_warned_at END,
        next_deadline_at = CASE t.next_step
            WHEN 'acknowledge_warning' THEN t.acknowledge_due_at
            WHEN 'checkin_warning' THEN t.checkin_due_at
            ELSE t.resolve_due_at END,
        next_step = replace(t.next_step, '_warning', '_overdue')
    FROM due WHERE t.id = due.id
    RETURNING t.id, t.whistle_id, t.department_id, replace(t.next_step, '_overdue', '_warning') AS step,
        CASE t.next_step
            WHEN 'acknowledge_overdue' THEN t.acknowledge_warn_at
            WHEN 'checkin_overdue' THEN t.checkin_warn_at
            ELSE t.resolve_warn_at END AS warn_at
), events AS (
    INSERT INTO {event} (whistle_id, task_id, actor_id, system_actor, verb, reason, old, new, created_at)
    SELECT whistle_id, id, NULL, %(sweeper)s, 'warning', '', NULL, jsonb_build_object('step', step, 'due', warn_at), %(now)s
    FROM fired
), notices AS (
    INSERT INTO {notification}
        (department_id, street_id, recipient_id, whistle_id, task_id, verb, created_at, read_at, mail_due, emailed_at)
    SELECT department_id, NULL, NULL, whistle_id, id, 'warning', %(now)s, NULL, false, NULL FROM fired
)
SELECT step, count(*) FROM fired GROUP BY step
"""


@transaction.atomic
def _sweep_warnings_in_sql(*, now: datetime, batch: int, result: SweepResult) -> int:
    """Fire a batch of due warnings in one statement (PostgreSQL); how many fired."""
    tables = {
        model.__name__.lower(): connection.ops.quote_name(model._meta.db_table) for model in (Task, Event, Notification)
    }
    with connection.cursor() as cursor:
        cursor.execute(WARNING_SQL.format(**tables), {"now": now, "batch": batch, "sweeper": SWEEPER})
        fired = dict(cursor.fetchall())
    result.steps.update(fired)
    return sum(fired.values())


@dataclass
class _Batch:
    """What one batch writes, in bulk, once every task of it has been handled."""

    now: datetime
    events: list[Event] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    records: list[tuple[AccountabilityRecord, list[Event]]] = field(default_factory=list)
    notices: list[Notification] = field(default_factory=list)
    heads: dict[int, list[int]] = field(default_factory=dict)
    supervisors: dict[int, list[int]] = field(default_factory=dict)


# The columns that say what a task's next step is and when.
NEXT_STEP = ("next_deadline_at", "next_step")


# What the sweep reads of a task, its whistle and its department.
SWEEP_FIELDS = (
    "id", "status", "whistle_id", "department_id", "next_deadline_at", "next_step", *LADDER_MARKS,
    *(f"{stage}_{moment}_at" for stage in LADDER_STAGES.values() for moment in ("due", "warn")),
    "whistle__number", "whistle__grade", "whistle__street_id", "whistle__street__district_id", "department__name",
)  # fmt: skip


@transaction.atomic
def _sweep_tasks(*, now: datetime, batch: int, result: SweepResult) -> int:
    # SKIP LOCKED: a row another sweeper (or a department acting on it) holds is
    # left to them; once they commit, its next step is no longer due or is seen next time.
    due = list(
        Task.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_deadline_at__lte=now)
        .select_related("whistle__street", "department")
        .only(*SWEEP_FIELDS)
        .order_by("next_deadline_at", "pk")[:batch]
    )
    if not due:
        return 0
    heads, supervisors = _heads_of(due), _supervisors_of(due)
    claimed = {task.pk: {name: getattr(task, name) for name in (*LADDER_MARKS, *NEXT_STEP)} for task in due}
    done = SweepResult()
    try:
        with transaction.atomic():
            _sweep_rows(due, work=_Batch(now=now, heads=heads, supervisors=supervisors), result=done)
    except Exception:  # noqa: BLE001 - a write the database refuses for one row must not hold up the rest
        logger.exception("sweep: the writes of a batch of %d tasks failed; its tasks are tried one by one", len(due))
        done = SweepResult()
        for task in due:
            for name, value in claimed[task.pk].items():
                setattr(task, name, value)
            one = SweepResult()
            try:
                with transaction.atomic():
                    _sweep_rows([task], work=_Batch(now=now, heads=heads, supervisors=supervisors), result=one)
            except Exception:  # noqa: BLE001
                logger.exception("sweep: task %s failed; it is tried again in an hour", task.pk)
                done.failed += 1
                Task.objects.filter(pk=task.pk).update(next_deadline_at=now + RETRY_BAD_ROW)
            else:
                done.steps.update(one.steps)
                done.failed += one.failed
    result.steps.update(done.steps)
    result.failed += done.failed
    return len(due)


def _sweep_rows(due: list[Task], *, work: _Batch, result: SweepResult) -> None:
    """Fire the due steps of these claimed tasks and write what they made, in bulk."""
    now = work.now
    warned_only: dict[str, list[int]] = defaultdict(list)
    others = []
    for task in due:
        marks = {name: getattr(task, name) for name in LADDER_MARKS}
        mark = len(work.events), len(work.orders), len(work.records), len(work.notices)
        try:
            fired = _fire_due_steps(task, work)
        except Exception:  # noqa: BLE001 - one bad row must not hold up the rest
            logger.exception("sweep: task %s failed; it is tried again in an hour", task.pk)
            result.failed += 1
            for name, value in marks.items():
                setattr(task, name, value)
            del work.events[mark[0] :], work.orders[mark[1] :], work.records[mark[2] :], work.notices[mark[3] :]
            task.next_deadline_at = now + RETRY_BAD_ROW
            others.append(task)
            continue
        result.steps.update(fired)
        stage = fired[0].removesuffix("_warning") if len(fired) == 1 else ""
        if fired == [f"{stage}_warning"] and task.next_step == f"{stage}_overdue":
            warned_only[stage].append(task.pk)
        else:
            others.append(task)
    # The common case, a warning and then the stage's own deadline, in one UPDATE per stage.
    for stage, ids in warned_only.items():
        Task.objects.filter(pk__in=ids).update(
            **{f"{stage}_warned_at": now}, next_step=f"{stage}_overdue", next_deadline_at=F(f"{stage}_due_at")
        )
    if others:
        Task.objects.bulk_update(others, [*LADDER_MARKS, *NEXT_STEP])
    _write(work)


def _fire_due_steps(task: Task, work: _Batch) -> list[str]:
    """Fire, in order, every step of the task's ladder that is due by now; store the next one."""
    fired = []
    for _round in range(len(LADDER_MARKS) + 1):
        at, step = ladder_next(task, grade=task.whistle.grade)
        if at is None or at > work.now:
            task.next_deadline_at, task.next_step = at, step
            return fired
        _fire(task, step, at, work)
        fired.append(step)
    raise RuntimeError(f"the ladder of task {task.pk} does not end")


def _fire(task: Task, step: str, due_at: datetime, work: _Batch) -> None:
    now, whistle = work.now, task.whistle
    event = Event(
        whistle=whistle, task=task, system_actor=SWEEPER, created_at=now, new={"step": step, "due": due_at.isoformat()}
    )
    work.events.append(event)
    supervisors = work.supervisors.get(whistle.street.district_id, [])
    if step.endswith("_warning"):
        setattr(task, f"{step.removesuffix('_warning')}_warned_at", now)
        event.verb = "warning"
        work.notices.append(_notice(task, "warning", now, department_id=task.department_id))
    elif step.endswith("_overdue"):
        setattr(task, f"{step.removesuffix('_overdue')}_overdue_at", now)
        event.verb = "overdue"
        work.notices += [
            _notice(task, "overdue", now, recipient_id=pk) for pk in work.heads.get(task.department_id, [])
        ]
        work.notices.append(_notice(task, "overdue", now, street_id=whistle.street_id))
    elif step == SUPERVISION:
        task.supervised_at = now
        event.verb = "supervision_ordered"
        work.orders.append(
            SupervisionOrder(
                task=task,
                automatic=True,
                reason=_("%(department)s is overdue on %(number)s since %(due)s.")
                % {"department": task.department, "number": whistle.number, "due": _local(_stage_due(task))},
                reply_by=supervision_reply_by(now, grade=whistle.grade),
                created_at=now,
            )
        )
        work.notices.append(_notice(task, "supervision_order", now, department_id=task.department_id))
        work.notices += [_notice(task, "supervision_order", now, recipient_id=pk) for pk in supervisors]
    elif step == ACCOUNTABILITY:
        task.accountable_at = now
        event.verb = "accountability_recorded"
        facts = _("%(department)s was still overdue on %(number)s at %(now)s.") % {
            "department": task.department,
            "number": whistle.number,
            "now": _local(now),
        }
        record = AccountabilityRecord(
            department=task.department,
            whistle=whistle,
            task=task,
            kind=AccountabilityRecord.Kind.OVERDUE,
            facts=facts,
            created_at=now,
        )
        work.records.append((record, [event]))
        work.notices += [_notice(task, "accountability", now, recipient_id=pk) for pk in supervisors]
    else:
        raise ValueError(f"unknown ladder step {step!r}")


def _stage_due(task: Task) -> datetime:
    return getattr(task, f"{LADDER_STAGES[task.status]}_due_at")


def _notice(task: Task, verb: str, now: datetime, **addressee) -> Notification:
    return Notification(whistle=task.whistle, task=task, verb=verb, created_at=now, **addressee)


def _write(work: _Batch) -> None:
    Event.objects.bulk_create(work.events)
    SupervisionOrder.objects.bulk_create(work.orders)
    _record(work.records)
    notifications_store(work.notices)


def _record(records: list[tuple[AccountabilityRecord, list[Event]]]) -> None:
    """Store accountability records with their linked events (which have their ids by now)."""
    AccountabilityRecord.objects.bulk_create([record for record, _events in records])
    link = AccountabilityRecord.events.through
    link.objects.bulk_create(
        link(accountabilityrecord_id=record.pk, event_id=event.pk) for record, events in records for event in events
    )


def _heads_of(tasks: list[Task]) -> dict[int, list[int]]:
    heads = defaultdict(list)
    departments = {task.department_id for task in tasks}
    for department_id, user_id in Membership.objects.filter(
        role=R.DEPT_HEAD, department_id__in=departments
    ).values_list("department_id", "user_id"):
        heads[department_id].append(user_id)
    return heads


def _supervisors_of(tasks: list[Task]) -> dict[int, list[int]]:
    supervisors = defaultdict(list)
    districts = {task.whistle.street.district_id for task in tasks}
    for district_id, user_id in Membership.objects.filter(role=R.SUPERVISOR, district_id__in=districts).values_list(
        "district_id", "user_id"
    ):
        supervisors[district_id].append(user_id)
    return supervisors


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


# Supervision orders not answered in time ----------------------------------------------


@transaction.atomic
def _sweep_unanswered_orders(*, now: datetime, batch: int, result: SweepResult) -> int:
    orders = list(
        SupervisionOrder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=OrderStatus.OPEN, unanswered_at=None, reply_by__lte=now)
        .select_related("task__whistle__street", "task__department")
        .order_by("reply_by", "pk")[:batch]
    )
    if not orders:
        return 0
    supervisors = _supervisors_of([order.task for order in orders])
    events, records, notices = [], [], []
    for order in orders:
        task, whistle = order.task, order.task.whistle
        order.unanswered_at = now
        event = Event(
            whistle=whistle,
            task=task,
            system_actor=SWEEPER,
            verb="order_unanswered",
            created_at=now,
            new={"order": order.number, "reply_by": order.reply_by.isoformat()},
        )
        events.append(event)
        facts = _("%(department)s did not answer supervision order %(order)s by %(reply_by)s.") % {
            "department": task.department,
            "order": order.number,
            "reply_by": _local(order.reply_by),
        }
        records.append(
            (
                AccountabilityRecord(
                    department=task.department,
                    whistle=whistle,
                    task=task,
                    order=order,
                    kind=AccountabilityRecord.Kind.UNANSWERED_ORDER,
                    facts=facts,
                    created_at=now,
                ),
                [event],
            )
        )
        notices += [
            _notice(task, "accountability", now, recipient_id=pk)
            for pk in supervisors.get(whistle.street.district_id, [])
        ]
    SupervisionOrder.objects.bulk_update(orders, ["unanswered_at"])
    Event.objects.bulk_create(events)
    _record(records)
    notifications_store(notices)
    result.steps["order_unanswered"] += len(orders)
    return len(orders)


# Buck-passing -------------------------------------------------------------------------


@transaction.atomic
def _sweep_buck_passing(*, now: datetime, result: SweepResult) -> None:
    """Whistles returned BUCK_PASSING_RETURNS times: a record for each department that returned one."""
    recorded = AccountabilityRecord.objects.filter(whistle=OuterRef("pk"), kind=AccountabilityRecord.Kind.BUCK_PASSING)
    whistles = list(
        Whistle.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(returns__gte=BUCK_PASSING_RETURNS)
        .exclude(Exists(recorded))
        .select_related("street")
    )
    if not whistles:
        return
    returns = defaultdict(list)
    for event in (
        Event.objects.filter(whistle__in=whistles, verb="returned")
        .exclude(task=None)
        .select_related("task__department")
    ):
        returns[(event.whistle_id, event.task.department)].append(event)
    records = []
    for (_whistle_id, department), events in returns.items():
        whistle = events[0].whistle
        facts = _("%(department)s returned %(number)s %(count)d times; it was returned %(total)d times in all.") % {
            "department": department,
            "number": whistle.number,
            "count": len(events),
            "total": whistle.returns,
        }
        records.append(
            (
                AccountabilityRecord(
                    department=department,
                    whistle=whistle,
                    kind=AccountabilityRecord.Kind.BUCK_PASSING,
                    facts=facts,
                    created_at=now,
                ),
                events,
            )
        )
    _record(records)
    result.steps["buck_passing"] += len(records)


# The dashboard's counts --------------------------------------------------------------


@transaction.atomic
def open_tasks_tally(*, now: datetime | None = None) -> int:
    """Count the open tasks again by district, street, department, category, grade and day, with their lights.

    One grouped query over the open tasks and one bulk insert; the old tally
    goes in the same transaction, so a reader sees one tally or the other.
    Returns the rows written. One count at a time: two at once (two beats, or
    a backlog of the job) would each delete only the rows they saw and both
    insert theirs, doubling the counts; on PostgreSQL a transaction-scoped
    advisory lock queues the second behind the first (SQLite has one writer).
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('escalation.open_tasks_tally'))")
    day = TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    groups = (
        with_stage(Task.objects.filter(status__in=Task.OPEN_STATUSES), now=now)
        .order_by()
        .values(
            "whistle__street__district_id",
            "whistle__street_id",
            "department_id",
            "whistle__category_id",
            "whistle__grade",
        )
        .annotate(
            day=day,
            n_open=Count("pk"),
            n_warning=Count("pk", filter=Q(light=YELLOW)),
            n_overdue=Count("pk", filter=Q(light=RED)),
        )
    )
    rows = [
        OpenTaskTally(
            district_id=group["whistle__street__district_id"],
            street_id=group["whistle__street_id"],
            department_id=group["department_id"],
            category_id=group["whistle__category_id"],
            grade=group["whistle__grade"],
            created_on=group["day"],
            open=group["n_open"],
            warning=group["n_warning"],
            overdue=group["n_overdue"],
            counted_at=now,
        )
        for group in groups
    ]
    OpenTaskTally.objects.all().delete()
    OpenTaskTally.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def open_tasks_tally_fresh(*, now: datetime | None = None) -> datetime:
    """Count again when the tally is older than DASHBOARD_TALLY_MAX_AGE_S (beat counts every minute).

    Returns when the tally in use was made.
    """
    now = now or timezone.now()
    latest = OpenTaskTally.objects.aggregate(at=Max("counted_at"))["at"]
    if latest is None or latest > now or now - latest >= timedelta(seconds=settings.DASHBOARD_TALLY_MAX_AGE_S):
        open_tasks_tally(now=now)
        return now
    return latest


# By hand ------------------------------------------------------------------------------


def _text(value, name: str, *, required: str) -> str:
    errors: dict[str, list[str]] = {}
    text = text_input(value, name, errors, required=required, max_length=TEXT_MAX_LENGTH)
    if errors:
        raise InvalidInput(fields=errors)
    return text


def _require_supervisor_of(actor, whistle: Whistle) -> None:
    require_role(actor, {R.SUPERVISOR})
    if membership_of(actor).district_id != whistle.street.district_id:
        raise NotAllowed(_("Only the supervisors of the whistle's district may do this."))


def _locked_order(order: SupervisionOrder) -> SupervisionOrder:
    return (
        SupervisionOrder.objects.select_for_update(of=("self",))
        .select_related("task__whistle__street", "task__department")
        .get(pk=order.pk)
    )


@transaction.atomic
def supervision_order_open(
    *, task: Task, actor, reason: str, reply_by: datetime | None = None, now: datetime | None = None
) -> SupervisionOrder:
    """A supervisor issues a supervision order by hand on an open task of their district."""
    now = now or timezone.now()
    task = Task.objects.select_for_update(of=("self",)).select_related("whistle__street", "department").get(pk=task.pk)
    _require_supervisor_of(actor, task.whistle)
    reason = _text(reason, "reason", required=_("Say what the department must answer."))
    if reply_by is None:
        reply_by = supervision_reply_by(now, grade=task.whistle.grade)
    elif timezone.is_naive(reply_by) or reply_by <= now:
        raise InvalidInput(fields={"reply_by": [_("Give a time in the future, with its UTC offset.")]})
    if task.status not in Task.OPEN_STATUSES:
        raise Conflict(
            _("The task is %(status)s: only an open task is supervised.") % {"status": task.get_status_display()}
        )
    order = SupervisionOrder.objects.create(
        task=task, reason=reason, reply_by=reply_by, opened_by=actor, created_at=now
    )
    event_record(
        whistle=task.whistle,
        task=task,
        verb="supervision_ordered",
        now=now,
        actor=actor,
        reason=reason,
        new={"order": order.number, "reply_by": reply_by.isoformat()},
    )
    notifications_store([_notice(task, "supervision_order", now, department_id=task.department_id)])
    return order


@transaction.atomic
def supervision_order_reply(
    *, order: SupervisionOrder, actor, reply: str, now: datetime | None = None
) -> SupervisionOrder:
    """The department answers the order (by its reply-by date, or late: the record says when)."""
    now = now or timezone.now()
    order = _locked_order(order)
    membership = membership_of(actor)
    if (
        membership is None
        or membership.department_id != order.task.department_id
        or membership.role
        not in (
            R.DEPT_STAFF,
            R.DEPT_HEAD,
        )
    ):
        raise NotAllowed(_("Only %(department)s answers this order.") % {"department": order.task.department})
    reply = _text(reply, "reply", required=_("Write the reply."))
    if order.status != OrderStatus.OPEN:
        raise Conflict(_("The order is %(status)s already.") % {"status": order.get_status_display()})
    SupervisionOrder.objects.filter(pk=order.pk).update(
        status=OrderStatus.ANSWERED, reply=reply, replied_by=actor, replied_at=now
    )
    order.status, order.reply, order.replied_by, order.replied_at = OrderStatus.ANSWERED, reply, actor, now
    event_record(
        whistle=order.task.whistle,
        task=order.task,
        verb="order_answered",
        now=now,
        actor=actor,
        reason=reply,
        old={"order": order.number, "status": OrderStatus.OPEN},
        new={"order": order.number, "status": OrderStatus.ANSWERED, "on_time": now <= order.reply_by},
    )
    return order


@transaction.atomic
def supervision_order_close(
    *, order: SupervisionOrder, actor, note: str, now: datetime | None = None
) -> SupervisionOrder:
    """A supervisor closes the order, answered or not, with a note."""
    now = now or timezone.now()
    order = _locked_order(order)
    _require_supervisor_of(actor, order.task.whistle)
    note = _text(note, "note", required=_("Say why the order is closed."))
    if order.status == OrderStatus.CLOSED:
        raise Conflict(_("The order is closed already."))
    previous = order.status
    SupervisionOrder.objects.filter(pk=order.pk).update(
        status=OrderStatus.CLOSED, closed_by=actor, closed_at=now, close_note=note
    )
    order.status, order.closed_by, order.closed_at, order.close_note = OrderStatus.CLOSED, actor, now, note
    event_record(
        whistle=order.task.whistle,
        task=order.task,
        verb="order_closed",
        now=now,
        actor=actor,
        reason=note,
        old={"order": order.number, "status": previous},
        new={"order": order.number, "status": OrderStatus.CLOSED},
    )
    return order


@transaction.atomic
def accountability_annotate(
    *, record: AccountabilityRecord, actor, text: str, now: datetime | None = None
) -> AccountabilityNote:
    """A supervisor adds a note to a record; records are never changed or deleted."""
    now = now or timezone.now()
    record = AccountabilityRecord.objects.select_related("whistle__street").get(pk=record.pk)
    _require_supervisor_of(actor, record.whistle)
    text = _text(text, "text", required=_("Write the note."))
    note = AccountabilityNote.objects.create(record=record, author=actor, text=text, created_at=now)
    event_record(
        whistle=record.whistle,
        task=record.task,
        verb="accountability_noted",
        now=now,
        actor=actor,
        reason=text,
        new={"record": record.pk},
    )
    return note

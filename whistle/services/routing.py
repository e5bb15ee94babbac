"""Routing: from a submitted whistle to the task lists of the responsible departments.

Submits ring the routing doorbell (whistle.services.doorbell); the one that
finds it silent sends a routing message, so a burst of submits costs a few
messages, not one per whistle. The routing run (`whistles_route_waiting`)
silences the bell, then claims the waiting whistles oldest first, ROUTE_BATCH
at a time with `FOR UPDATE SKIP LOCKED`, and routes each batch in one
transaction with a handful of set-based statements; a whistle stored after
its look rings again. Only a whistle still `submitted` is routed, so two runs
at once, or a message delivered twice, route it exactly once; tasks are
unique per (whistle, department) besides. A lost message costs a delay, never
a whistle: a bell rung for longer than doorbell.STALE rings again, and the
re-enqueue job calls a run for whistles waiting over a minute.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput
from departments.catalogue import CO_OPERATING, LEAD, Assignment, current_catalogue
from departments.models import Department, Membership
from escalation.policy import STAGE_MARKS, StageDeadlines, stage_deadlines
from monitoring.services import routing_record
from whistle.models import Doorbell, Notification, Task, Whistle
from whistle.permissions import require_role
from whistle.services.doorbell import doorbell_silence
from whistle.services.notify import notifications_store
from whistle.services.transitions import task_next_step, whistle_transition, whistles_transition

logger = logging.getLogger(__name__)

ROUTER = "router"
ROUTE_BATCH = 50
# What routing reads of a whistle: enough to match, set deadlines and move it on.
ROUTING_FIELDS = (
    "id", "number", "status", "category_id", "street_id", "grade", "mode", "appointed_checkin_at", "routing"
)  # fmt: skip


def whistle_route(*, whistle_id: int, now: datetime | None = None) -> Whistle | None:
    """Route one submitted whistle; a no-op for one already routed (or gone).

    Waits for a router holding the row, then finds the whistle routed.
    """
    with transaction.atomic():
        whistle = Whistle.objects.select_for_update().filter(pk=whistle_id).first()
        if whistle is None:
            logger.warning("whistle_route: whistle %s does not exist", whistle_id)
            return None
        if whistle.status == Whistle.Status.SUBMITTED:
            _route(whistles=[whistle], now=now or timezone.now())
    return whistle


def whistles_route_waiting(*, batch: int = ROUTE_BATCH, now: datetime | None = None) -> int:
    """Route every whistle waiting in `submitted`, oldest first, `batch` per transaction; how many were routed.

    Rows another run holds are skipped, not waited for: it is routing them.
    """
    doorbell_silence(Doorbell.ROUTING)  # before the first look: whatever is stored after it rings again
    waiting = (
        Whistle.objects.select_for_update(skip_locked=True)
        .filter(status=Whistle.Status.SUBMITTED)
        .only(*ROUTING_FIELDS)
        .order_by("submitted_at", "pk")
    )
    routed = 0
    while True:
        with transaction.atomic():
            whistles = list(waiting[:batch])
            if whistles:
                _route(whistles=whistles, now=now or timezone.now())
        routed += len(whistles)
        if len(whistles) < batch:
            return routed


def _route(*, whistles: list[Whistle], now: datetime) -> None:
    """Summon the departments of each locked, submitted whistle; those without a rule wait for the dispatcher."""
    catalogue = current_catalogue()
    no_rule = _("No responsibility rule matches this category in this street.")
    failed = _("Automatic routing failed: route this whistle by hand.")
    deadlines_of: dict[str, StageDeadlines] = {}  # one `now` for the batch: one computation per grade
    routed, waiting, tasks = [], [], []
    for whistle in whistles:
        try:
            assignments = catalogue.match(category_id=whistle.category_id, street_id=whistle.street_id)
            if assignments:
                if whistle.grade not in deadlines_of:
                    deadlines_of[whistle.grade] = stage_deadlines(grade=whistle.grade, start=now)
                due = deadlines_of[whistle.grade]
                tasks += [_task(whistle, a, due, now) for a in assignments]
                routed.append((whistle, {"routing": [a.explanation() for a in assignments], "routed_at": now}))
            else:
                waiting.append((whistle, {"routing": [{"scope": "none"}]}, no_rule))
        except Exception:  # noqa: BLE001 - one whistle's bad data must not hold up the batch
            logger.exception("routing whistle %s failed; it waits for manual dispatch", whistle.number)
            waiting.append((whistle, {"routing": [{"scope": "failed"}]}, failed))
    Task.objects.bulk_create(tasks)
    notifications = [
        Notification(department_id=t.department_id, whistle=t.whistle, task=t, verb="summoned", created_at=now)
        for t in tasks
    ]
    notifications += [
        Notification(street_id=w.street_id, whistle=w, verb="awaiting_dispatch", created_at=now)
        for w, _f, _r in waiting
    ]
    notifications_store(notifications + _quick_heads_notifications(tasks=tasks, now=now))
    if routed:
        whistles_transition(changes=routed, to=Whistle.Status.ROUTED, verb="routed", now=now, system_actor=ROUTER)
    for reason in {reason for _w, _f, reason in waiting}:
        whistles_transition(
            changes=[(w, fields) for w, fields, r in waiting if r == reason],
            to=Whistle.Status.AWAITING_DISPATCH,
            verb="awaiting_dispatch",
            now=now,
            system_actor=ROUTER,
            reason=reason,
        )
    routing_record(
        routed=[w for w, _f in routed],
        unmatched=[w for w, _f, r in waiting if r == no_rule],
        failed=[w for w, _f, r in waiting if r == failed],
        now=now,
    )


def _quick_heads_notifications(*, tasks: list[Task], now: datetime) -> list[Notification]:
    """A quick whistle summons the department heads themselves: a notice to each, with the appointed time.

    One query finds the heads of every department summoned by the batch's quick whistles.
    """
    quick = [task for task in tasks if task.whistle.mode == Whistle.Mode.QUICK]
    if not quick:
        return []
    heads: dict[int, list[int]] = {}
    for department_id, user_id in Membership.objects.filter(
        role=Membership.Role.DEPT_HEAD, department_id__in={task.department_id for task in quick}
    ).values_list("department_id", "user_id"):
        heads.setdefault(department_id, []).append(user_id)
    return [
        Notification(recipient_id=user_id, whistle=task.whistle, task=task, verb="quick_summoned", created_at=now)
        for task in quick
        for user_id in heads.get(task.department_id, ())
    ]


def task_deadlines(whistle: Whistle, due: StageDeadlines) -> dict:
    # A quick whistle's department checks in at the time the street appointed.
    checkin_due = whistle.appointed_checkin_at if whistle.mode == Whistle.Mode.QUICK else due.checkin_due
    return {
        "acknowledge_due_at": due.acknowledge_due,
        "acknowledge_warn_at": due.acknowledge_warning_at,
        "checkin_due_at": checkin_due,
        "checkin_warn_at": min(due.checkin_warning_at, checkin_due),
        "resolve_due_at": due.resolve_due,
        "resolve_warn_at": due.resolve_warning_at,
    }


def _task(whistle: Whistle, assignment: Assignment, due: StageDeadlines, now: datetime) -> Task:
    task = Task(
        whistle=whistle,
        department=assignment.department,
        role=assignment.role,
        created_at=now,
        updated_at=now,
        **task_deadlines(whistle, due),
    )
    task_next_step(task)
    return task


# The stage facts of a task summoned again start over; its supervision and accountability
# stay done (once per task: the ladder goes straight from a new overdue to nothing more).
RESTARTED = {
    "acknowledged_at": None,
    "acknowledged_on_time": None,
    "checked_in_at": None,
    "checked_in_on_time": None,
    "checkin_lon": None,
    "checkin_lat": None,
    "checkin_note": "",
    "closed_at": None,
    "closed_on_time": None,
    **dict.fromkeys(STAGE_MARKS),
}


def _summon(*, whistle: Whistle, assignments: list[Assignment], now: datetime) -> list[Task]:
    """Create (or re-open) one task per department chosen by hand, and notify each department."""
    due = stage_deadlines(grade=whistle.grade, start=now)
    existing = {task.department_id: task for task in whistle.tasks.all()}
    new, reopened = [], []
    for assignment in assignments:
        task = existing.get(assignment.department.pk)
        if task is None:
            new.append(_task(whistle, assignment, due, now))
        else:
            # A department summoned again (after it returned the task) gets the same row back,
            # its stages to do again (the first round's facts stay in the events).
            changes = {"role": assignment.role, "status": Task.Status.PENDING, "updated_at": now, **RESTARTED}
            for name, value in {**changes, **task_deadlines(whistle, due)}.items():
                setattr(task, name, value)
            task_next_step(task)
            reopened.append(task)
    Task.objects.bulk_create(new)
    if reopened:
        Task.objects.bulk_update(
            reopened,
            [
                "role",
                "status",
                "updated_at",
                *RESTARTED,
                *task_deadlines(whistle, due),
                "next_deadline_at",
                "next_step",
            ],
        )
    tasks = new + reopened
    notifications_store(
        [
            Notification(department_id=task.department_id, whistle=whistle, task=task, verb="summoned", created_at=now)
            for task in tasks
        ]
        + _quick_heads_notifications(tasks=tasks, now=now)
    )
    return tasks


@transaction.atomic
def whistle_dispatch(
    *, whistle: Whistle, actor, departments: list[dict], note: str = "", now: datetime | None = None
) -> Whistle:
    """Manual routing by the street's dispatcher: [{code, role}], exactly one open lead in all.

    After a department returned its task the whistle waits here again with
    its other tasks still open: the dispatcher adds departments (a new lead
    if the lead returned), or none, to let the open ones carry on.
    """
    now = now or timezone.now()
    require_role(actor, {Membership.Role.DISPATCHER}, street_id=whistle.street_id)
    whistle = Whistle.objects.select_for_update().get(pk=whistle.pk)
    if whistle.status != Whistle.Status.AWAITING_DISPATCH:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: only a whistle waiting for dispatch is routed by hand.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    assignments = _manual_assignments(whistle=whistle, departments=departments, note=note)
    _summon(whistle=whistle, assignments=assignments, now=now)
    routing = [*whistle.routing, *({**a.explanation(), "by": actor.get_username(), "note": note} for a in assignments)]
    whistle_transition(
        whistle=whistle,
        to=Whistle.Status.ROUTED,
        verb="dispatched",
        now=now,
        actor=actor,
        reason=note,
        fields={"routing": routing, "routed_at": whistle.routed_at or now},
    )
    return whistle


def _manual_assignments(*, whistle: Whistle, departments: list[dict], note: str) -> list[Assignment]:
    errors: list[str] = []
    still_open = dict(
        whistle.tasks.filter(status__in=Task.OPEN_STATUSES).values_list("department__code", "role").order_by("pk")
    )
    if not isinstance(departments, list) or not (departments or still_open):
        raise InvalidInput(fields={"departments": [_("Choose at least one department.")]})
    codes = [str(item.get("code", "")) if isinstance(item, dict) else "" for item in departments]
    roles = [item.get("role") if isinstance(item, dict) else None for item in departments]
    # The whistle's district's departments only: another district's are unknown here.
    found = Department.objects.filter(district_id=whistle.street.district_id).in_bulk(codes, field_name="code")
    for code, role in zip(codes, roles, strict=True):
        if code not in found:
            errors.append(_("Unknown department %(code)s.") % {"code": code or "—"})
        if role not in (LEAD, CO_OPERATING):
            errors.append(_("Role must be lead or co_operating (department %(code)s).") % {"code": code or "—"})
    if len(set(codes)) != len(codes):
        errors.append(_("A department may be chosen only once."))
    busy = sorted(set(codes) & set(still_open))
    if busy:
        errors.append(_("%(codes)s work on this whistle already.") % {"codes": ", ".join(busy)})
    open_leads = [code for code, role in still_open.items() if role == LEAD]
    if open_leads and roles.count(LEAD):
        errors.append(
            _("%(code)s still leads this whistle: add co-operating departments only.") % {"code": open_leads[0]}
        )
    elif roles.count(LEAD) + len(open_leads) != 1:
        errors.append(_("Choose exactly one lead department."))
    returned = set(whistle.tasks.filter(status=Task.Status.RETURNED).values_list("department__code", flat=True))
    again = sorted(returned & set(codes))
    if again and not note.strip():
        errors.append(
            _("%(codes)s returned this whistle before: say in the note why it is theirs after all.")
            % {"codes": ", ".join(again)}
        )
    if errors:
        raise InvalidInput(fields={"departments": errors})
    ordered = sorted(zip(codes, roles, strict=True), key=lambda pair: pair[1] != LEAD)
    return [Assignment(found[code], role, None, "manual") for code, role in ordered]

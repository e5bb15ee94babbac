"""The one way a whistle changes status, and the audit events every change writes.

ALLOWED_TRANSITIONS is the whole state machine; a test pins it. A transition
updates with `filter(pk=…, status=old)`, so that of two racing writers the
second updates 0 rows and gets a Conflict instead of silently overwriting.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from config.errors import Conflict
from escalation.policy import ladder_next
from whistle.models import Event, Task, Whistle

S = Whistle.Status

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.AWAITING_SIGNATURE}),
    S.AWAITING_SIGNATURE: frozenset({S.AWAITING_APPROVAL, S.DRAFT}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.DRAFT}),
    S.APPROVED: frozenset({S.SUBMITTED, S.DRAFT}),
    S.SUBMITTED: frozenset({S.ROUTED, S.AWAITING_DISPATCH, S.MERGED}),
    S.AWAITING_DISPATCH: frozenset({S.ROUTED, S.MERGED}),
    S.ROUTED: frozenset({S.AWAITING_DISPATCH, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.ROUTED}),  # confirmed, or reopened by the street
    S.CLOSED: frozenset({S.ROUTED}),  # reopened once by a dissatisfied citizen's callback
    S.MERGED: frozenset(),
}

T = Task.Status

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    # Checking in on site says "acknowledged" too: a quick whistle's heads go straight there.
    T.PENDING: frozenset({T.ACKNOWLEDGED, T.CHECKED_IN, T.RETURNED, T.RELEASED}),
    T.ACKNOWLEDGED: frozenset({T.CHECKED_IN, T.RETURNED, T.RELEASED}),
    T.CHECKED_IN: frozenset({T.CLOSED, T.RETURNED, T.RELEASED}),
    T.CLOSED: frozenset({T.PENDING}),  # the whistle was reopened
    T.RETURNED: frozenset({T.PENDING}),  # the dispatcher summoned the department again
    T.RELEASED: frozenset({T.PENDING}),
}


def event_record(
    *,
    whistle: Whistle,
    verb: str,
    now: datetime,
    actor: AbstractBaseUser | None = None,
    system_actor: str = "",
    task: Task | None = None,
    reason: str = "",
    old: dict | None = None,
    new: dict | None = None,
) -> Event:
    return Event.objects.create(
        whistle=whistle,
        task=task,
        actor=actor,
        system_actor=system_actor,
        verb=verb,
        reason=reason,
        old=old,
        new=new,
        created_at=now,
    )


def whistle_transition(
    *,
    whistle: Whistle,
    to: str,
    verb: str,
    now: datetime,
    actor: AbstractBaseUser | None = None,
    system_actor: str = "",
    reason: str = "",
    fields: dict | None = None,
) -> Event:
    """Move the whistle from its current status to `to`, with its Event; call inside a transaction."""
    old = whistle.status
    _check_allowed(whistle, to)
    changes = {"status": to, "updated_at": now, **(fields or {})}
    # Conditional update: 0 rows means someone else moved the whistle first.
    if not Whistle.objects.filter(pk=whistle.pk, status=old).update(**changes):
        raise Conflict(
            _("Whistle %(number)s was changed by someone else meanwhile; reload it and try again.")
            % {"number": whistle.number},
            code="concurrent_change",
        )
    for name, value in changes.items():
        setattr(whistle, name, value)
    return event_record(
        whistle=whistle,
        verb=verb,
        now=now,
        actor=actor,
        system_actor=system_actor,
        reason=reason,
        old={"status": old},
        new={"status": to},
    )


def whistles_transition(
    *,
    changes: list[tuple[Whistle, dict]],
    to: str,
    verb: str,
    now: datetime,
    actor: AbstractBaseUser | None = None,
    system_actor: str = "",
    reason: str = "",
) -> list[Event]:
    """Move many whistles to `to`, each with its own fields and its own Event, in two statements.

    For a caller holding every row's lock (SELECT … FOR UPDATE) in the
    current transaction: nobody else can have moved them meanwhile.
    """
    if not changes:
        return []
    for whistle, _fields in changes:
        _check_allowed(whistle, to)
    events = []
    names = {"status", "updated_at"}
    for whistle, fields in changes:
        events.append(
            Event(
                whistle=whistle,
                actor=actor,
                system_actor=system_actor,
                verb=verb,
                reason=reason,
                old={"status": whistle.status},
                new={"status": to},
                created_at=now,
            )
        )
        for name, value in {"status": to, "updated_at": now, **fields}.items():
            setattr(whistle, name, value)
        names.update(fields)
    Whistle.objects.bulk_update([whistle for whistle, _fields in changes], sorted(names))
    return Event.objects.bulk_create(events)


def task_transition(
    *,
    task: Task,
    to: str,
    verb: str,
    now: datetime,
    actor: AbstractBaseUser | None = None,
    system_actor: str = "",
    reason: str = "",
    fields: dict | None = None,
    old: dict | None = None,
    new: dict | None = None,
) -> Event:
    """Move a task from its current status to `to`, with its Event; call inside a transaction.

    `old`/`new` add facts to the Event beside the status (a reason code, a deadline moved).
    """
    previous = task.status
    if to not in TASK_TRANSITIONS[previous]:
        raise Conflict(
            _("The task of %(department)s is %(status)s: it cannot become %(target)s.")
            % {"department": task.department, "status": task.get_status_display(), "target": T(to).label},
            code="invalid_transition",
        )
    changes = {"status": to, "updated_at": now, **(fields or {})}
    for name, value in changes.items():
        setattr(task, name, value)
    changes.update(task_next_step(task))
    # Conditional update: 0 rows means someone else moved the task first.
    if not Task.objects.filter(pk=task.pk, status=previous).update(**changes):
        raise Conflict(
            _("The task of %(department)s was changed by someone else meanwhile; reload it and try again.")
            % {"department": task.department},
            code="concurrent_change",
        )
    for name, value in changes.items():
        setattr(task, name, value)
    return event_record(
        whistle=task.whistle,
        task=task,
        verb=verb,
        now=now,
        actor=actor,
        system_actor=system_actor,
        reason=reason,
        old={"status": previous, **(old or {})},
        new={"status": to, **(new or {})},
    )


def task_next_step(task: Task) -> dict:
    """The stored next step of the escalation ladder, for a task whose status or deadlines just changed.

    Set it on the task and save these fields with the change: the sweep finds
    due tasks by `next_deadline_at` alone.
    """
    at, step = ladder_next(task, grade=task.whistle.grade)
    task.next_deadline_at, task.next_step = at, step
    return {"next_deadline_at": at, "next_step": step}


def _check_allowed(whistle: Whistle, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS[whistle.status]:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: it cannot become %(target)s.")
            % {"number": whistle.number, "status": whistle.get_status_display(), "target": S(to).label},
            code="invalid_transition",
        )

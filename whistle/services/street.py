"""The street's side of a resolved whistle: confirm or reopen it, rate the departments, record the callback.

When every department has closed its task the whistle is resolved; the street
confirms it (closed) or reopens it with a reason, which sends every closed task
back to its department with new deadlines. The street rates each department
that reported in (下对上). After confirmation the hotline or the street records
the citizen's verdict (回访): dissatisfied and not solved reopens the whistle
once; the second time it goes to the district's supervisors instead.

Every service locks the whistle row first, so two street users acting at once
(or a confirmation racing a callback) end in one order, never in a mix.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput, NotAllowed, text_input
from departments.models import Department, Membership
from escalation.policy import stage_deadlines
from whistle.models import Callback, Rating, Task, Whistle
from whistle.permissions import membership_of, require_role
from whistle.services.notify import notify
from whistle.services.routing import RESTARTED, task_deadlines
from whistle.services.transitions import event_record, task_transition, whistle_transition

R, S = Membership.Role, Whistle.Status
# Who of the whistle's street accepts or sends back the result, rates the departments and records a callback.
STREET_DECIDERS = frozenset({R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD, R.DISPATCHER})
TEXT_MAX_LENGTH = 2000
SCORES = ("response", "attitude", "result")
RATEABLE = (S.RESOLVED, S.CLOSED)


def _locked(whistle: Whistle) -> Whistle:
    return Whistle.objects.select_related("street").select_for_update(of=("self",)).get(pk=whistle.pk)


def _text(value, *, field: str, errors: dict, required: str = "") -> str:
    return text_input(value, field, errors, required=required, max_length=TEXT_MAX_LENGTH)


# Confirm and reopen ------------------------------------------------------------------------


@transaction.atomic
def whistle_confirm(*, whistle: Whistle, actor, now: datetime | None = None) -> Whistle:
    """The street accepts the departments' result (确认): resolved → closed."""
    now = now or timezone.now()
    require_role(actor, STREET_DECIDERS, street_id=whistle.street_id)
    whistle = _locked(whistle)
    if whistle.status != S.RESOLVED:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: only a resolved whistle is confirmed.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    whistle_transition(whistle=whistle, to=S.CLOSED, verb="confirmed", now=now, actor=actor, fields={"closed_at": now})
    return whistle


@transaction.atomic
def whistle_reopen(*, whistle: Whistle, actor, reason: str, now: datetime | None = None) -> Whistle:
    """The street sends the result back (重办): resolved → routed, every closed task pending again."""
    now = now or timezone.now()
    require_role(actor, STREET_DECIDERS, street_id=whistle.street_id)
    whistle = _locked(whistle)
    if whistle.status != S.RESOLVED:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: only a resolved whistle can be reopened.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    errors: dict[str, list[str]] = {}
    reason = _text(reason, field="reason", errors=errors, required=_("Say why the whistle is reopened."))
    if errors:
        raise InvalidInput(fields=errors)
    _reopen(whistle=whistle, actor=actor, verb="reopened", reason=reason, now=now)
    return whistle


def _reopen(*, whistle: Whistle, actor, verb: str, reason: str, now: datetime) -> list[Task]:
    """Move the locked whistle back to routed and every closed task back to pending, with new deadlines."""
    whistle_transition(
        whistle=whistle,
        to=S.ROUTED,
        verb=verb,
        now=now,
        actor=actor,
        reason=reason,
        fields={"reopens": whistle.reopens + 1, "resolved_at": None, "closed_at": None},
    )
    deadlines = reopened_deadlines(whistle=whistle, now=now)
    tasks = list(whistle.tasks.select_related("department").filter(status=Task.Status.CLOSED).order_by("pk"))
    for task in tasks:
        task_transition(
            task=task,
            to=Task.Status.PENDING,
            verb="reopened",
            now=now,
            actor=actor,
            reason=reason,
            fields={**deadlines, **RESTARTED},
            old={"resolve_due_at": task.resolve_due_at.isoformat(), "closed_at": _iso(task.closed_at)},
            new={"resolve_due_at": deadlines["resolve_due_at"].isoformat()},
        )
        notify(whistle=whistle, verb="reopened", now=now, departments=[task.department_id], task=task)
    return tasks


def reopened_deadlines(*, whistle: Whistle, now: datetime) -> dict[str, datetime]:
    """A reopened task's deadlines, counted from `now` as routing counts them."""
    due = stage_deadlines(grade=whistle.grade, start=now)
    deadlines = task_deadlines(whistle, due)
    if deadlines["checkin_due_at"] is None or deadlines["checkin_due_at"] <= now:
        # A quick whistle's appointed check-in time has passed: the grade's window applies to the new round.
        deadlines.update(checkin_due_at=due.checkin_due, checkin_warn_at=due.checkin_warning_at)
    return deadlines


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# Rating --------------------------------------------------------------------------------------


def rateable_tasks(whistle: Whistle):
    """The tasks of departments that reported in on the whistle: checked in on site, or closed."""
    return whistle.tasks.filter(Q(checked_in_at__isnull=False) | Q(status=Task.Status.CLOSED))


@transaction.atomic
def whistle_rate(
    *,
    whistle: Whistle,
    actor,
    department: str,
    response,
    attitude,
    result,
    comment: str = "",
    now: datetime | None = None,
) -> Rating:
    """The street rates a department that reported in (下对上): 1–5 on response, attitude and result; once."""
    now = now or timezone.now()
    require_role(actor, STREET_DECIDERS, street_id=whistle.street_id)
    whistle = _locked(whistle)
    if whistle.status not in RATEABLE:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: departments are rated once it is resolved.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    errors: dict[str, list[str]] = {}
    code = department.strip() if isinstance(department, str) else ""
    task = (
        rateable_tasks(whistle).filter(department__code=code).select_related("department").order_by("pk").first()
        if code
        else None
    )
    if task is None:
        if not code:
            message = _("Choose the department to rate.")
        elif Department.objects.filter(code=code).exists():
            message = _("%(code)s did not report in on this whistle: only departments that did are rated.") % {
                "code": code
            }
        else:
            message = _("Unknown department %(code)s.") % {"code": code}
        errors["department"] = [message]
    elif Rating.objects.filter(whistle=whistle, department_id=task.department_id).exists():
        raise Conflict(
            _("%(department)s is already rated on this whistle.") % {"department": task.department},
            code="already_rated",
        )
    scores = {}
    for name in SCORES:
        value = {"response": response, "attitude": attitude, "result": result}[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = [_("Give %(score)s a whole number from 1 to 5.") % {"score": _score_labels()[name]}]
        scores[name] = value
    comment = _text(comment, field="comment", errors=errors)
    if errors:
        raise InvalidInput(fields=errors)
    rating = Rating(
        whistle=whistle, department=task.department, rated_by=actor, comment=comment, created_at=now, **scores
    )
    rating.full_clean(validate_constraints=False)  # the constraints are checked above, under the lock
    rating.save()
    event_record(
        whistle=whistle,
        task=task,
        verb="rated",
        now=now,
        actor=actor,
        reason=comment,
        new={"department": task.department.code, **scores},
    )
    return rating


def _score_labels() -> dict[str, str]:
    return {"response": _("response"), "attitude": _("attitude"), "result": _("result")}


# Citizen callback ----------------------------------------------------------------------------


def require_callback_recorder(user, whistle: Whistle) -> Membership:
    """The hotline, for a hotline whistle of its district, or the whistle's street; else NotAllowed."""
    membership = membership_of(user)
    if membership is not None and membership.role == R.HOTLINE_CLIENT:
        if whistle.source == Whistle.Source.HOTLINE and membership.district_id == whistle.street.district_id:
            return membership
        raise NotAllowed(_("The hotline records callbacks only for its own whistles."))
    return require_role(user, STREET_DECIDERS, street_id=whistle.street_id)


@transaction.atomic
def whistle_callback(
    *, whistle: Whistle, actor, satisfaction: str, solved, note: str = "", now: datetime | None = None
) -> Callback:
    """Record the citizen's verdict on a closed whistle (回访).

    Dissatisfied and not solved reopens the whistle the first time; the second
    time it does not reopen but is escalated to the district's supervisors.
    """
    now = now or timezone.now()
    whistle = _locked(whistle)
    require_callback_recorder(actor, whistle)
    if whistle.status != S.CLOSED:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: the citizen is called back once the street has confirmed it.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    errors: dict[str, list[str]] = {}
    if satisfaction not in Callback.Satisfaction.values:
        errors["satisfaction"] = [_("Satisfaction must be satisfied, basically_satisfied or dissatisfied.")]
    if not isinstance(solved, bool):
        errors["solved"] = [_("Say whether the matter is solved (true or false).")]
    note = _text(note, field="note", errors=errors)
    if errors:
        raise InvalidInput(fields=errors)
    unhappy = {"satisfaction": Callback.Satisfaction.DISSATISFIED, "solved": False}
    # Counted before this callback is stored: was the citizen unhappy already?
    unhappy_before = Callback.objects.filter(whistle=whistle, **unhappy).exists()
    callback = Callback(
        whistle=whistle, recorded_by=actor, satisfaction=satisfaction, solved=solved, note=note, created_at=now
    )
    callback.full_clean()
    callback.save()
    verdict = {"satisfaction": satisfaction, "solved": solved}
    if satisfaction != unhappy["satisfaction"] or solved:
        event_record(whistle=whistle, verb="callback", now=now, actor=actor, reason=note, new=verdict)
    elif not unhappy_before:
        reason = note or _("The citizen is dissatisfied and the matter is not solved.")
        _reopen(whistle=whistle, actor=actor, verb="callback_reopened", reason=reason, now=now)
    elif whistle.escalated_at is None:
        _escalate(whistle=whistle, actor=actor, note=note, verdict=verdict, now=now)
    else:
        # Supervisors have it already: record the verdict, do not notify them again.
        event_record(whistle=whistle, verb="callback", now=now, actor=actor, reason=note, new=verdict)
    return callback


def _escalate(*, whistle: Whistle, actor, note: str, verdict: dict, now: datetime) -> None:
    # The row is locked (whistle_callback): a plain update cannot lose a concurrent change.
    Whistle.objects.filter(pk=whistle.pk).update(escalated_at=now, updated_at=now)
    whistle.escalated_at = whistle.updated_at = now
    event_record(
        whistle=whistle,
        verb="callback_escalated",
        now=now,
        actor=actor,
        reason=note or _("The citizen is dissatisfied again after the whistle was reopened."),
        new={**verdict, "escalated_at": now.isoformat()},
    )
    supervisors = Membership.objects.filter(role=R.SUPERVISOR, district_id=whistle.street.district_id)
    notify(whistle=whistle, verb="escalated", now=now, recipients=supervisors.values_list("user_id", flat=True))

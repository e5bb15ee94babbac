"""Joint meetings (吹哨会) of difficult whistles and their attendance.

The street schedules a meeting; every department with an open task on the
whistle is invited and notified. Each department checks in to it: present,
or late once the grace period after the start has passed. When the street
closes the meeting as held, every department still only invited is marked
absent — the absences are what the evaluation counts against a department.

Every service locks the whistle row first and then the meeting row, the same
order everywhere, so two of them on one meeting cannot deadlock; attendance
and meeting statuses change with conditional UPDATEs besides.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput, NotAllowed, text_input
from departments.models import Grade, Membership
from whistle.models import DESCRIPTION_MAX_LENGTH, JointMeeting, MeetingAttendance, Task, Whistle
from whistle.permissions import DEPARTMENT_ACTORS, membership_of, require_role
from whistle.services.notify import notify
from whistle.services.street import TEXT_MAX_LENGTH
from whistle.services.transitions import event_record

R, S = Membership.Role, Whistle.Status
M, A = JointMeeting.Status, MeetingAttendance.Status
# Who of the whistle's street schedules, closes and cancels its joint meetings.
MEETING_ORGANISERS = frozenset({R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD})
PLACE_MAX_LENGTH = 200


def late_after(meeting: JointMeeting) -> datetime:
    """From this moment a department checking in is late."""
    return meeting.scheduled_at + timedelta(minutes=settings.MEETING_LATE_GRACE_MINUTES)


def _locked_whistle(whistle_id: int) -> Whistle:
    return Whistle.objects.select_for_update().get(pk=whistle_id)


def _locked_meeting(meeting: JointMeeting) -> tuple[Whistle, JointMeeting]:
    whistle = _locked_whistle(meeting.whistle_id)
    meeting = JointMeeting.objects.select_for_update().get(pk=meeting.pk)
    meeting.whistle = whistle
    return whistle, meeting


def _require_scheduled(meeting: JointMeeting) -> None:
    if meeting.status != M.SCHEDULED:
        raise Conflict(
            _("The meeting of %(time)s is %(status)s: nothing can change it now.")
            % {"time": _local(meeting.scheduled_at), "status": meeting.get_status_display()}
        )


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@transaction.atomic
def meeting_schedule(
    *, whistle: Whistle, actor, scheduled_at, place: str, agenda: str = "", now: datetime | None = None
) -> JointMeeting:
    """The street schedules a joint meeting of a routed difficult whistle and invites every department on it."""
    now = now or timezone.now()
    require_role(actor, MEETING_ORGANISERS, street_id=whistle.street_id)
    whistle = _locked_whistle(whistle.pk)
    if whistle.grade != Grade.DIFFICULT or whistle.status != S.ROUTED:
        raise Conflict(
            _("Whistle %(number)s is %(grade)s and %(status)s: joint meetings are for routed difficult whistles.")
            % {"number": whistle.number, "grade": whistle.get_grade_display(), "status": whistle.get_status_display()}
        )
    if whistle.meetings.filter(status=M.SCHEDULED).exists():
        raise Conflict(
            _("Whistle %(number)s has a meeting scheduled already: hold or cancel it first.")
            % {"number": whistle.number}
        )
    departments = list(
        whistle.tasks.filter(status__in=Task.OPEN_STATUSES)
        .order_by("department_id")
        .values_list("department_id", flat=True)
    )
    if not departments:
        raise Conflict(_("No department has an open task on whistle %(number)s.") % {"number": whistle.number})
    errors: dict[str, list[str]] = {}
    if scheduled_at is None:
        errors["scheduled_at"] = [_("Give the meeting's date and time.")]
    elif timezone.is_naive(scheduled_at):
        errors["scheduled_at"] = [_("Give the time with its UTC offset, e.g. 2026-05-06T09:30:00+08:00.")]
    elif scheduled_at <= now:
        errors["scheduled_at"] = [_("The meeting must be in the future.")]
    place = text_input(
        place, "place", errors, required=_("Say where the meeting is held."), max_length=PLACE_MAX_LENGTH
    )
    agenda = text_input(agenda, "agenda", errors, max_length=DESCRIPTION_MAX_LENGTH)
    if errors:
        raise InvalidInput(fields=errors)
    meeting = JointMeeting(
        whistle=whistle, scheduled_at=scheduled_at, place=place, agenda=agenda, created_by=actor, created_at=now
    )
    meeting.full_clean()
    meeting.save()
    MeetingAttendance.objects.bulk_create(
        MeetingAttendance(meeting=meeting, department_id=department) for department in departments
    )
    event_record(
        whistle=whistle,
        verb="meeting_scheduled",
        now=now,
        actor=actor,
        reason=agenda,
        new={"meeting": meeting.pk, "scheduled_at": scheduled_at.isoformat(), "place": place},
    )
    notify(whistle=whistle, verb="meeting_scheduled", now=now, departments=departments)
    return meeting


def require_meeting_attendee(user, meeting: JointMeeting) -> MeetingAttendance:
    """The attendance row of the user's department, if it is invited and the user acts for it; else NotAllowed."""
    membership = membership_of(user)
    if membership is None or membership.role not in DEPARTMENT_ACTORS:
        raise NotAllowed(_("Only the staff and heads of the invited departments check in to the meeting."))
    attendance = meeting.attendance.filter(department_id=membership.department_id).select_related("department")
    row = attendance.first()
    if row is None:
        raise NotAllowed(_("Your department is not invited to this meeting."))
    return row


@transaction.atomic
def meeting_check_in(*, meeting: JointMeeting, actor, now: datetime | None = None) -> MeetingAttendance:
    """A department reports in at the meeting: present, or late after the grace period."""
    now = now or timezone.now()
    whistle, meeting = _locked_meeting(meeting)
    attendance = require_meeting_attendee(actor, meeting)
    _require_scheduled(meeting)
    if attendance.status != A.INVITED:
        raise Conflict(
            _("%(department)s is recorded as %(status)s already.")
            % {"department": attendance.department, "status": attendance.get_status_display()},
            code="already_checked_in",
        )
    status = A.LATE if now > late_after(meeting) else A.PRESENT
    # Conditional: of two colleagues checking in at once, the second finds the row taken.
    if not MeetingAttendance.objects.filter(pk=attendance.pk, status=A.INVITED).update(
        status=status, checked_in_at=now, checked_in_by=actor
    ):
        raise Conflict(_("%(department)s has checked in already.") % {"department": attendance.department})
    attendance.status, attendance.checked_in_at, attendance.checked_in_by = status, now, actor
    task = whistle.tasks.filter(department_id=attendance.department_id).first()
    event_record(
        whistle=whistle,
        task=task,
        verb="meeting_attended",
        now=now,
        actor=actor,
        old={"attendance": A.INVITED},
        new={"meeting": meeting.pk, "department": attendance.department.code, "attendance": status},
    )
    return attendance


@transaction.atomic
def meeting_close(*, meeting: JointMeeting, actor, now: datetime | None = None) -> JointMeeting:
    """The street records the meeting as held; every department that did not check in is absent."""
    now = now or timezone.now()
    require_role(actor, MEETING_ORGANISERS, street_id=meeting.whistle.street_id)
    whistle, meeting = _locked_meeting(meeting)
    _require_scheduled(meeting)
    if now < meeting.scheduled_at:
        raise Conflict(
            _("The meeting starts at %(time)s: it can be closed as held only after it started.")
            % {"time": _local(meeting.scheduled_at)}
        )
    absent = list(
        meeting.attendance.filter(status=A.INVITED)
        .order_by("department__code")
        .values_list("department__code", flat=True)
    )
    meeting.attendance.filter(status=A.INVITED).update(status=A.ABSENT)
    _meeting_move(meeting, to=M.HELD, fields={"held_at": now})
    event_record(
        whistle=whistle,
        verb="meeting_held",
        now=now,
        actor=actor,
        old={"meeting": meeting.pk, "status": M.SCHEDULED},
        new={"meeting": meeting.pk, "status": M.HELD, "absent": absent},
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: JointMeeting, actor, reason: str, now: datetime | None = None) -> JointMeeting:
    """The street calls the meeting off, with a reason; nobody is counted absent."""
    now = now or timezone.now()
    require_role(actor, MEETING_ORGANISERS, street_id=meeting.whistle.street_id)
    whistle, meeting = _locked_meeting(meeting)
    _require_scheduled(meeting)
    errors: dict[str, list[str]] = {}
    reason = text_input(
        reason, "reason", errors, required=_("Say why the meeting is cancelled."), max_length=TEXT_MAX_LENGTH
    )
    if errors:
        raise InvalidInput(fields=errors)
    _meeting_move(meeting, to=M.CANCELLED)
    event_record(
        whistle=whistle,
        verb="meeting_cancelled",
        now=now,
        actor=actor,
        reason=reason,
        old={"meeting": meeting.pk, "status": M.SCHEDULED},
        new={"meeting": meeting.pk, "status": M.CANCELLED},
    )
    invited = meeting.attendance.values_list("department_id", flat=True)
    notify(whistle=whistle, verb="meeting_cancelled", now=now, departments=list(invited))
    return meeting


def _meeting_move(meeting: JointMeeting, *, to: str, fields: dict | None = None) -> None:
    changes = {"status": to, **(fields or {})}
    # The meeting row is locked; the condition still guards against a caller that did not lock it.
    if not JointMeeting.objects.filter(pk=meeting.pk, status=M.SCHEDULED).update(**changes):
        raise Conflict(_("The meeting was changed by someone else meanwhile; reload it and try again."))
    for name, value in changes.items():
        setattr(meeting, name, value)

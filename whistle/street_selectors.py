"""Reads for the street side of a whistle (confirm, reopen, rate, callback) and its joint meetings.

They decide what a page offers; the services check the same rules again.
Each expects the whistle as `whistle_get` loads it (tasks, ratings, callbacks
and meetings with their attendance prefetched), so a page costs no extra query.
"""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from departments.models import Grade
from whistle.models import JointMeeting, MeetingAttendance, Rating, Task, Whistle
from whistle.permissions import DEPARTMENT_ACTORS, meeting_scope, membership_of
from whistle.selectors import whistle_list
from whistle.services.meetings import MEETING_ORGANISERS, late_after
from whistle.services.street import RATEABLE, STREET_DECIDERS

S, R = Whistle.Status, Whistle.Source
M, A = JointMeeting.Status, MeetingAttendance.Status


def street_actions(*, user, whistle: Whistle) -> set[str]:
    """Names: confirm, reopen, rate, callback, schedule_meeting."""
    membership = membership_of(user)
    if membership is None:
        return set()
    own_street = membership.street_id == whistle.street_id
    decides = own_street and membership.role in STREET_DECIDERS
    actions = set()
    if decides and whistle.status == S.RESOLVED:
        actions |= {"confirm", "reopen"}
    if decides and whistle.status in RATEABLE and rateable_departments(whistle):
        actions.add("rate")
    hotline = (
        membership.role == "hotline_client"
        and whistle.source == R.HOTLINE
        and membership.district_id == whistle.street.district_id
    )
    if whistle.status == S.CLOSED and (decides or hotline):
        actions.add("callback")
    if (
        own_street
        and membership.role in MEETING_ORGANISERS
        and whistle.grade == Grade.DIFFICULT
        and whistle.status == S.ROUTED
        and not any(meeting.status == M.SCHEDULED for meeting in whistle.meetings.all())
        and any(task.status in Task.OPEN_STATUSES for task in whistle.tasks.all())
    ):
        actions.add("schedule_meeting")
    return actions


def rateable_departments(whistle: Whistle) -> list[tuple[str, str]]:
    """(code, label) of the departments that reported in on the whistle and are not rated yet."""
    rated = {rating.department_id for rating in whistle.ratings.all()}
    seen, choices = set(), []
    for task in whistle.tasks.all():
        reported_in = task.checked_in_at is not None or task.status == Task.Status.CLOSED
        if reported_in and task.department_id not in rated | seen:
            seen.add(task.department_id)
            choices.append((task.department.code, f"{task.department.code} {task.department.name}"))
    return sorted(choices)


def whistles_to_rate(*, user) -> QuerySet[Whistle]:
    """Closed whistles of the user's street with a department that reported in and is not rated yet.

    For the roles that rate (STREET_DECIDERS); the rule of rateable_departments
    in SQL, oldest closed first. A resolved whistle waits for its confirmation
    first (its page offers the rating too), so only closed ones are listed.
    """
    membership = membership_of(user)
    if membership is None or not membership.street_id or membership.role not in STREET_DECIDERS:
        return Whistle.objects.none()
    rated = Rating.objects.filter(whistle_id=OuterRef("whistle_id"), department_id=OuterRef("department_id"))
    unrated = Task.objects.filter(
        Q(checked_in_at__isnull=False) | Q(status=Task.Status.CLOSED), ~Exists(rated), whistle_id=OuterRef("pk")
    )
    return (
        whistle_list(user=user)
        .filter(Exists(unrated), street_id=membership.street_id, status=S.CLOSED)
        .order_by("closed_at", "pk")
    )


def whistle_meetings(*, user, whistle: Whistle) -> list[dict]:
    """The whistle's meetings, each with its attendance and what this viewer may do to it (attend, close, cancel)."""
    membership = membership_of(user)
    role = membership.role if membership else None
    organises = membership is not None and membership.street_id == whistle.street_id and role in MEETING_ORGANISERS
    department_id = membership.department_id if membership and role in DEPARTMENT_ACTORS else None
    rows = []
    for meeting in whistle.meetings.all():
        scheduled = meeting.status == M.SCHEDULED
        mine = next((a for a in meeting.attendance.all() if a.department_id == department_id), None)
        rows.append(
            {
                "meeting": meeting,
                "attendance": sorted(meeting.attendance.all(), key=lambda a: a.department.code),
                "late_after": late_after(meeting),
                "attend": scheduled and mine is not None and mine.status == A.INVITED,
                "close": scheduled and organises,
                "cancel": scheduled and organises,
            }
        )
    return rows


def meeting_list(*, user) -> QuerySet[JointMeeting]:
    """The meetings of the whistles the user may see, soonest first, with their whistle and attendance."""
    return (
        meeting_scope(user)
        .select_related("whistle", "created_by")
        .prefetch_related(Prefetch("attendance", queryset=MeetingAttendance.objects.select_related("department")))
        .order_by("scheduled_at", "pk")
    )

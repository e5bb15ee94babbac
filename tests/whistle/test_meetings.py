"""Joint meetings of difficult whistles (吹哨会): scheduling, attendance present / late / absent, closing, cancelling."""

from datetime import datetime, timedelta

import pytest
import time_machine

from config.errors import Conflict, InvalidInput, NotAllowed
from tests.whistle.lifecycle import MONDAY_10, SHANGHAI, close_all, routed, snapshot
from whistle.models import Event, JointMeeting, MeetingAttendance, Notification
from whistle.services import meeting_cancel, meeting_check_in, meeting_close, meeting_schedule
from whistle.services.tasks import task_release

AT = datetime(2026, 3, 3, 9, 30, tzinfo=SHANGHAI)  # Tuesday morning, the day after MONDAY_10


@pytest.fixture
def difficult(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        return routed(cast, user=cast.s01_head, grade="difficult")


def schedule(cast, whistle, actor=None, **fields):
    data = {"scheduled_at": AT, "place": "百泉街道办三楼会议室", "agenda": "楼道堆物清理分工", **fields}
    with time_machine.travel(MONDAY_10 + timedelta(minutes=5), tick=False):
        return meeting_schedule(whistle=whistle, actor=actor or cast.s01_staff, **data)


def attendance(meeting) -> dict[str, str]:
    return dict(meeting.attendance.values_list("department__code", "status"))


def test_the_street_schedules_a_meeting_and_every_summoned_department_is_invited_and_notified(cast, difficult):
    meeting = schedule(cast, difficult, actor=cast.s01_deputy)

    assert (meeting.status, meeting.scheduled_at, meeting.place, meeting.created_by) == (
        "scheduled",
        AT,
        "百泉街道办三楼会议室",
        cast.s01_deputy,
    )
    assert attendance(meeting) == {"D13": "invited", "D12": "invited", "E06": "invited"}
    notices = Notification.objects.filter(whistle=difficult, verb="meeting_scheduled")
    assert sorted(n.department.code for n in notices) == ["D12", "D13", "E06"]
    event = Event.objects.filter(whistle=difficult).last()
    assert (event.verb, event.reason, event.new["meeting"], event.new["place"]) == (
        "meeting_scheduled",
        "楼道堆物清理分工",
        meeting.pk,
        "百泉街道办三楼会议室",
    )


def test_a_released_department_is_not_invited(cast, difficult):
    task_release(task=difficult.tasks.get(department=cast.e06), actor=cast.s01_dispatcher, note="无需环卫")
    assert attendance(schedule(cast, difficult)) == {"D13": "invited", "D12": "invited"}


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"scheduled_at": None}, "scheduled_at", "Give the meeting's date and time."),
        ({"scheduled_at": datetime(2026, 3, 3, 9, 30)}, "scheduled_at", "UTC offset"),
        ({"scheduled_at": MONDAY_10}, "scheduled_at", "must be in the future"),
        ({"place": "  "}, "place", "Say where the meeting is held."),
        ({"place": "会" * 201}, "place", "At most 200 characters (this has 201)."),
        ({"place": None}, "place", "Say where"),
        ({"agenda": "议" * 4001}, "agenda", "At most 4000 characters (this has 4001)."),
    ],
)
def test_bad_meeting_input_names_the_field_and_changes_nothing(cast, difficult, fields, field, message):
    before = snapshot(difficult)

    with pytest.raises(InvalidInput) as error:
        schedule(cast, difficult, **fields)

    assert list(error.value.fields) == [field]
    assert message in error.value.fields[field][0]
    assert snapshot(difficult) == before


def test_meetings_are_for_routed_difficult_whistles_one_at_a_time(cast, difficult):
    ordinary = routed(cast)
    with pytest.raises(Conflict, match="joint meetings are for routed difficult whistles"):
        schedule(cast, ordinary)
    schedule(cast, difficult)
    before = snapshot(difficult)
    with pytest.raises(Conflict, match="has a meeting scheduled already"):
        schedule(cast, difficult, place="现场")
    assert snapshot(difficult) == before


def test_a_resolved_difficult_whistle_gets_no_meeting(cast, difficult):
    close_all(cast, difficult)
    with pytest.raises(Conflict):
        schedule(cast, difficult)
    assert not JointMeeting.objects.exists()


@pytest.mark.parametrize("username", ["s02_staff", "s01_dispatcher", "s01_grid", "d13_staff", "supervisor"])
def test_only_the_streets_staff_deputy_and_head_schedule(cast, difficult, username):
    with pytest.raises(NotAllowed):
        schedule(cast, difficult, actor=getattr(cast, username))
    assert not JointMeeting.objects.exists()


# Attendance --------------------------------------------------------------------------------------


@pytest.fixture
def meeting(cast, difficult):
    return schedule(cast, difficult)


def check_in(meeting, user, at):
    with time_machine.travel(at, tick=False):
        return meeting_check_in(meeting=meeting, actor=user)


def test_on_time_or_within_the_grace_period_is_present_after_it_late(cast, meeting):
    check_in(meeting, cast.d13_staff, AT - timedelta(minutes=20))
    check_in(meeting, cast.d12_staff, AT + timedelta(minutes=15))
    row = check_in(meeting, cast.e06_staff, AT + timedelta(minutes=15, seconds=1))

    assert attendance(meeting) == {"D13": "present", "D12": "present", "E06": "late"}
    assert (row.checked_in_at, row.checked_in_by) == (AT + timedelta(minutes=15, seconds=1), cast.e06_staff)
    event = Event.objects.filter(verb="meeting_attended", task__department=cast.e06).get()
    assert event.new == {"meeting": meeting.pk, "department": "E06", "attendance": "late"}
    assert event.actor == cast.e06_staff


def test_the_grace_period_is_a_setting(cast, meeting, settings):
    settings.MEETING_LATE_GRACE_MINUTES = 30
    check_in(meeting, cast.d13_staff, AT + timedelta(minutes=25))
    settings.MEETING_LATE_GRACE_MINUTES = 0
    check_in(meeting, cast.d12_staff, AT + timedelta(seconds=1))
    assert attendance(meeting) == {"D13": "present", "D12": "late", "E06": "invited"}


def test_a_department_head_checks_in_for_the_department(cast, meeting):
    from tests.factories import MembershipFactory, UserFactory

    head = MembershipFactory(user=UserFactory(username="d13_head"), role="dept_head", street=None, department=cast.d13)
    check_in(meeting, head.user, AT)
    assert attendance(meeting)["D13"] == "present"


def test_a_department_checks_in_once(cast, meeting):
    check_in(meeting, cast.d13_staff, AT)
    with pytest.raises(Conflict, match="recorded as present already"):
        check_in(meeting, cast.d13_staff, AT + timedelta(hours=1))
    assert meeting.attendance.get(department=cast.d13).checked_in_at == AT


@pytest.mark.parametrize("username", ["s01_staff", "t01_staff", "supervisor", "outsider"])
def test_only_an_invited_department_checks_in(cast, meeting, username):
    before = snapshot(meeting.whistle)
    with pytest.raises(NotAllowed):
        check_in(meeting, getattr(cast, username), AT)
    assert snapshot(meeting.whistle) == before


# Closing and cancelling ------------------------------------------------------------------------


def test_closing_the_meeting_marks_every_department_that_did_not_come_absent(cast, meeting):
    check_in(meeting, cast.d13_staff, AT)
    check_in(meeting, cast.d12_staff, AT + timedelta(minutes=40))
    held_at = AT + timedelta(hours=1)

    with time_machine.travel(held_at, tick=False):
        meeting_close(meeting=meeting, actor=cast.s01_head)

    meeting.refresh_from_db()
    assert (meeting.status, meeting.held_at) == ("held", held_at)
    assert attendance(meeting) == {"D13": "present", "D12": "late", "E06": "absent"}
    event = Event.objects.filter(whistle=meeting.whistle).last()
    assert (event.verb, event.new) == ("meeting_held", {"meeting": meeting.pk, "status": "held", "absent": ["E06"]})
    with pytest.raises(Conflict, match="nothing can change it now"):
        check_in(meeting, cast.e06_staff, held_at + timedelta(minutes=1))
    assert attendance(meeting)["E06"] == "absent"


def test_a_meeting_is_closed_only_after_it_started_and_only_by_its_street(cast, meeting):
    before = snapshot(meeting.whistle)
    with time_machine.travel(AT - timedelta(minutes=1), tick=False):
        with pytest.raises(Conflict, match="only after it started"):
            meeting_close(meeting=meeting, actor=cast.s01_staff)
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        for user in (cast.s02_head, cast.d13_staff, cast.s01_dispatcher):
            with pytest.raises(NotAllowed):
                meeting_close(meeting=meeting, actor=user)
    assert snapshot(meeting.whistle) == before


def test_a_cancelled_meeting_counts_nobody_absent_and_takes_no_more_check_ins(cast, meeting):
    with pytest.raises(InvalidInput) as error:
        meeting_cancel(meeting=meeting, actor=cast.s01_staff, reason=" ")
    assert list(error.value.fields) == ["reason"]

    meeting_cancel(meeting=meeting, actor=cast.s01_staff, reason="主要部门负责人外出")

    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    assert set(attendance(meeting).values()) == {"invited"}
    assert Event.objects.filter(whistle=meeting.whistle).last().reason == "主要部门负责人外出"
    cancelled = Notification.objects.filter(verb="meeting_cancelled", whistle=meeting.whistle)
    assert sorted(cancelled.values_list("department__code", flat=True)) == ["D12", "D13", "E06"]
    with pytest.raises(Conflict):
        check_in(meeting, cast.d13_staff, AT)
    with pytest.raises(Conflict):
        with time_machine.travel(AT + timedelta(hours=1), tick=False):
            meeting_close(meeting=meeting, actor=cast.s01_staff)
    with pytest.raises(Conflict):
        meeting_cancel(meeting=meeting, actor=cast.s01_staff, reason="again")
    # The street may schedule another one.
    schedule(cast, meeting.whistle, place="现场")
    assert MeetingAttendance.objects.filter(meeting__whistle=meeting.whistle, status="invited").count() == 6

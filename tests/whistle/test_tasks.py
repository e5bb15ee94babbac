"""The department side of a whistle, through its services: report in, return, extend, close."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from config.errors import Conflict, InvalidInput, NotAllowed
from departments.models import Membership
from tests.factories import MembershipFactory, UserFactory, submit_whistle
from whistle.models import Attachment, Event, Extension, Feedback, Notification, Task, Whistle
from whistle.services import (
    extension_decide,
    task_acknowledge,
    task_check_in,
    task_close,
    task_grant,
    task_progress,
    task_release,
    task_request_extension,
    task_return,
    whistle_dispatch,
    whistle_route,
)
from whistle.task_selectors import task_counts, task_list

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def routed_whistle(user, **fields) -> Whistle:
    whistle = submit_whistle(user, **fields).whistle
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def task_of(whistle: Whistle, code: str) -> Task:
    return Task.objects.select_related("whistle", "department").get(whistle=whistle, department__code=code)


def checked_in(task: Task, user) -> Task:
    task_check_in(task=task, actor=user)
    task.refresh_from_db()
    return task


def close(task: Task, user, **fields) -> Feedback:
    data = {"actions": "清理楼道杂物，恢复消防通道。", "result": "solved", **fields}
    return task_close(task=task, actor=user, **data)


def snapshot(*models):
    return [list(model.objects.order_by("pk").values()) for model in models]


@pytest.fixture(autouse=True)
def monday_morning():
    """Every test starts on Monday 2 March 2026 at 10:00; some travel on from there."""
    with time_machine.travel(MONDAY_10, tick=False):
        yield


@pytest.fixture
def whistle(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        return routed_whistle(cast.s01_staff)


@pytest.fixture
def lead(whistle):
    return task_of(whistle, "D13")


@pytest.fixture
def d13_head(cast):
    return MembershipFactory(
        user=UserFactory(username="d13_head"), role=Membership.Role.DEPT_HEAD, street=None, department=cast.d13
    ).user


# Acknowledge and check in ---------------------------------------------------------------------


def test_acknowledging_takes_the_task_and_freezes_whether_it_was_on_time(cast, lead):
    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        task_acknowledge(task=lead, actor=cast.d13_staff)

    lead.refresh_from_db()
    assert lead.status == Task.Status.ACKNOWLEDGED
    assert lead.acknowledged_at == MONDAY_10 + timedelta(hours=1)
    assert lead.acknowledged_on_time is True
    event = Event.objects.get(task=lead, verb="acknowledged")
    assert event.actor == cast.d13_staff
    assert event.old == {"status": "pending"} and event.new == {"status": "acknowledged", "on_time": True}


def test_acknowledging_after_the_deadline_is_frozen_as_late(cast, lead):
    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        task_acknowledge(task=lead, actor=cast.d13_staff)

    lead.refresh_from_db()
    assert lead.acknowledged_on_time is False


def test_only_the_tasks_department_acts_on_it_and_nothing_changes_otherwise(cast, lead):
    before = snapshot(Task, Event)

    for user in (cast.d12_staff, cast.s01_staff, cast.supervisor, cast.outsider):
        with pytest.raises(NotAllowed):
            task_acknowledge(task=lead, actor=user)

    assert snapshot(Task, Event) == before


def test_acknowledging_twice_is_a_conflict(cast, lead):
    task_acknowledge(task=lead, actor=cast.d13_staff)

    with pytest.raises(Conflict):
        task_acknowledge(task=lead, actor=cast.d13_staff)

    assert Event.objects.filter(task=lead, verb="acknowledged").count() == 1


def test_checking_in_records_time_place_and_note_and_acknowledges_a_pending_task(cast, lead):
    with time_machine.travel(MONDAY_10 + timedelta(hours=4), tick=False):
        task_check_in(task=lead, actor=cast.d13_staff, lon=115.975, lat=40.465, note="已到现场")

    lead.refresh_from_db()
    assert lead.status == Task.Status.CHECKED_IN
    assert (lead.checkin_lon, lead.checkin_lat, lead.checkin_note) == (115.975, 40.465, "已到现场")
    assert lead.checked_in_at == lead.acknowledged_at == MONDAY_10 + timedelta(hours=4)
    assert lead.checked_in_on_time is True and lead.acknowledged_on_time is False
    assert list(Event.objects.filter(task=lead).values_list("verb", flat=True)) == ["checked_in"]


@pytest.mark.parametrize(
    "point, field",
    [
        ({"lon": 200.0, "lat": 40.0}, "lon"),
        ({"lon": 116.0, "lat": -91.0}, "lat"),
        ({"lon": 116.0}, "lat"),
        ({"lat": 40.0}, "lon"),
        ({"lon": float("nan"), "lat": 40.0}, "lon"),
    ],
)
def test_checking_in_refuses_a_bad_point_naming_the_field(cast, lead, point, field):
    before = snapshot(Task, Event)

    with pytest.raises(InvalidInput) as caught:
        task_check_in(task=lead, actor=cast.d13_staff, **point)

    assert field in caught.value.fields
    assert snapshot(Task, Event) == before


def test_a_quick_whistle_checked_in_after_the_appointed_time_is_recorded_late(cast):
    appointed = MONDAY_10 + timedelta(hours=1)
    with time_machine.travel(MONDAY_10, tick=False):
        whistle = routed_whistle(cast.s01_staff, mode="quick", appointed_checkin_at=appointed)
    lead = task_of(whistle, "D13")

    with time_machine.travel(appointed + timedelta(minutes=20), tick=False):
        task_check_in(task=lead, actor=cast.d13_staff)

    lead.refresh_from_db()
    assert lead.checked_in_on_time is False
    event = Event.objects.get(task=lead, verb="checked_in")
    assert event.new["late"] is True and event.new["quick"] is True
    assert "Late for the appointed check-in time" in event.reason


def test_a_progress_note_is_recorded_and_must_say_something(cast, lead):
    task_progress(task=lead, actor=cast.d13_staff, note="已联系物业")
    assert Event.objects.get(task=lead, verb="progress").reason == "已联系物业"

    with pytest.raises(InvalidInput) as caught:
        task_progress(task=lead, actor=cast.d13_staff, note="  ")
    assert "note" in caught.value.fields
    assert Event.objects.filter(task=lead, verb="progress").count() == 1


# Extension ------------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_resolve_deadline_and_its_warning(cast, lead):
    until = lead.resolve_due_at + timedelta(days=5)
    with time_machine.travel(MONDAY_10 + timedelta(days=1), tick=False):
        extension = task_request_extension(task=lead, actor=cast.d13_staff, until=until, reason="需协调产权单位")
    assert Notification.objects.filter(verb="extension_requested", street=cast.s01).count() == 1

    decided_at = MONDAY_10 + timedelta(days=2)
    with time_machine.travel(decided_at, tick=False):
        extension_decide(extension=extension, actor=cast.s01_head, decision="approve", note="同意")

    lead.refresh_from_db()
    extension.refresh_from_db()
    assert lead.resolve_due_at == until
    assert decided_at < lead.resolve_warn_at < until
    # Ordinary whistles warn at 80 % of the window.
    assert lead.resolve_warn_at == decided_at + (until - decided_at) * 0.8
    assert extension.status == Extension.Status.APPROVED and extension.decided_by == cast.s01_head
    assert extension.previous_due_at == MONDAY_10 + timedelta(days=9)
    event = Event.objects.get(task=lead, verb="extension_approved")
    assert event.new["resolve_due_at"] == until.isoformat()
    assert Notification.objects.filter(verb="extension_decided", department=cast.d13).count() == 1


def test_a_refused_extension_keeps_the_deadline_and_needs_a_reason(cast, lead):
    due = lead.resolve_due_at
    extension = task_request_extension(
        task=lead, actor=cast.d13_staff, until=due + timedelta(days=3), reason="人手不足"
    )

    with pytest.raises(InvalidInput) as caught:
        extension_decide(extension=extension, actor=cast.supervisor, decision="refuse")
    assert "note" in caught.value.fields

    extension_decide(extension=extension, actor=cast.supervisor, decision="refuse", note="按期办结")

    lead.refresh_from_db()
    extension.refresh_from_db()
    assert lead.resolve_due_at == due
    assert extension.status == Extension.Status.REFUSED and extension.decision_note == "按期办结"
    with pytest.raises(Conflict):
        extension_decide(extension=extension, actor=cast.supervisor, decision="approve")


def test_only_the_streets_head_or_a_supervisor_decides_an_extension(cast, lead):
    extension = task_request_extension(
        task=lead, actor=cast.d13_staff, until=lead.resolve_due_at + timedelta(days=3), reason="人手不足"
    )

    for user in (cast.s01_staff, cast.s01_dispatcher, cast.d13_staff, cast.outsider):
        with pytest.raises(NotAllowed):
            extension_decide(extension=extension, actor=user, decision="approve")
    s02_head = cast.s02_staff.__class__.objects.get(username="s02_head")
    with pytest.raises(NotAllowed):
        extension_decide(extension=extension, actor=s02_head, decision="approve")
    extension.refresh_from_db()
    assert extension.status == Extension.Status.PENDING


@pytest.mark.parametrize(
    "until, reason, field",
    [
        (None, "需要时间", "until"),
        (MONDAY_10 - timedelta(hours=1), "需要时间", "until"),
        (MONDAY_10 + timedelta(days=2), "需要时间", "until"),  # before the current resolve-by date
        (datetime(2026, 3, 20, 10, 0), "需要时间", "until"),  # naive
        (MONDAY_10 + timedelta(days=20), "", "reason"),
    ],
)
def test_an_extension_request_refuses_bad_input(cast, lead, until, reason, field):
    with time_machine.travel(MONDAY_10, tick=False), pytest.raises(InvalidInput) as caught:
        task_request_extension(task=lead, actor=cast.d13_staff, until=until, reason=reason)

    assert field in caught.value.fields
    assert not Extension.objects.exists()


def test_only_one_extension_request_waits_at_a_time(cast, lead):
    until = lead.resolve_due_at + timedelta(days=3)
    task_request_extension(task=lead, actor=cast.d13_staff, until=until, reason="人手不足")

    with pytest.raises(Conflict):
        task_request_extension(task=lead, actor=cast.d13_staff, until=until, reason="再次申请")

    assert Extension.objects.count() == 1


# Return and re-dispatch ----------------------------------------------------------------------


def test_a_returned_task_sends_the_whistle_back_to_the_dispatcher_with_the_reason(cast, whistle, lead):
    task_return(
        task=lead,
        actor=cast.d13_staff,
        reason_code="not_ours",
        reason="属于住建委职责",
        suggested_department="D12",
    )

    lead.refresh_from_db()
    whistle.refresh_from_db()
    assert lead.status == Task.Status.RETURNED
    assert lead.return_reason_code == "not_ours" and lead.suggested_department == cast.d12
    assert whistle.status == Whistle.Status.AWAITING_DISPATCH and whistle.returns == 1
    event = Event.objects.get(whistle=whistle, task=None, verb="awaiting_dispatch", actor=cast.d13_staff)
    assert "属于住建委职责" in event.reason and "not our responsibility" in event.reason
    assert Notification.objects.filter(verb="returned", street=cast.s01).count() == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"reason_code": "", "reason": "不归我们管"}, "reason_code"),
        ({"reason_code": "bored", "reason": "不归我们管"}, "reason_code"),
        ({"reason_code": "not_ours", "reason": " "}, "reason"),
        ({"reason_code": "not_ours", "reason": "不归我们管", "suggested_department": "X99"}, "suggested_department"),
    ],
)
def test_a_return_needs_a_reason_code_and_text(cast, lead, fields, field):
    before = snapshot(Task, Whistle, Event)

    with pytest.raises(InvalidInput) as caught:
        task_return(task=lead, actor=cast.d13_staff, **fields)

    assert field in caught.value.fields
    assert snapshot(Task, Whistle, Event) == before


def test_the_dispatcher_adds_a_new_lead_after_the_lead_returned_and_the_others_carry_on(cast, whistle, lead):
    task_acknowledge(task=task_of(whistle, "D12"), actor=cast.d12_staff)
    task_return(task=lead, actor=cast.d13_staff, reason_code="needs_other_department", reason="需要派出所")
    whistle.refresh_from_db()

    with pytest.raises(InvalidInput) as caught:
        whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=[])
    assert "Choose exactly one lead department." in caught.value.fields["departments"]
    with pytest.raises(InvalidInput) as caught:
        whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=[{"code": "D12", "role": "lead"}])
    assert any("work on this whistle already" in m for m in caught.value.fields["departments"])

    whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=[{"code": "T01", "role": "lead"}])

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED
    statuses = {t.department.code: (t.role, t.status) for t in whistle.tasks.select_related("department")}
    assert statuses == {
        "D13": ("lead", "returned"),
        "D12": ("co_operating", "acknowledged"),
        "E06": ("co_operating", "pending"),
        "T01": ("lead", "pending"),
    }


def test_after_a_co_operating_return_the_dispatcher_may_let_the_open_lead_carry_on(cast, whistle, lead):
    task_return(task=task_of(whistle, "E06"), actor=cast.e06_staff, reason_code="wrong_location", reason="不在辖区")
    whistle.refresh_from_db()

    with pytest.raises(InvalidInput) as caught:
        whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=[{"code": "T01", "role": "lead"}])
    assert any("D13 still leads" in m for m in caught.value.fields["departments"])

    whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=[])

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED and whistle.returns == 1


def test_summoning_a_department_that_returned_needs_a_note_and_restarts_its_task(cast, whistle, lead):
    task_check_in(task=lead, actor=cast.d13_staff)
    task_return(task=lead, actor=cast.d13_staff, reason_code="not_ours", reason="不归我们管")
    whistle.refresh_from_db()
    choice = [{"code": "D13", "role": "lead"}]

    with pytest.raises(InvalidInput):
        whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=choice)
    whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=choice, note="职责清单明确由城管委主办")

    lead.refresh_from_db()
    assert lead.status == Task.Status.PENDING
    assert lead.checked_in_at is None and lead.acknowledged_at is None


# Close ------------------------------------------------------------------------------------------


def test_a_co_operating_department_closes_its_part_with_feedback_and_photos(cast, whistle, settings):
    d12 = checked_in(task_of(whistle, "D12"), cast.d12_staff)
    files = [SimpleUploadedFile("现场.jpg", JPEG), SimpleUploadedFile("报告.PDF", PDF)]

    with time_machine.travel(MONDAY_10 + timedelta(days=1), tick=False):
        feedback = close(d12, cast.d12_staff, files=files)

    d12.refresh_from_db()
    assert d12.status == Task.Status.CLOSED and d12.closed_on_time is True
    assert feedback.result == "solved" and feedback.author == cast.d12_staff
    attachments = list(feedback.attachments.order_by("pk"))
    assert [(a.name, a.content_type, a.size) for a in attachments] == [
        ("现场.jpg", "image/jpeg", len(JPEG)),
        ("报告.PDF", "application/pdf", len(PDF)),
    ]
    assert attachments[0].file.read() == JPEG
    # Outside the public media path: only the access-checked view serves it.
    assert attachments[0].file.path.startswith(settings.STORAGES["private"]["OPTIONS"]["location"])
    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"actions": ""}, "actions"),
        ({"result": "done"}, "result"),
        ({"result": "unsolvable", "note": ""}, "note"),
        ({"files": [SimpleUploadedFile("现场.jpg", b"GIF89a" + b"\x00" * 32)]}, "files"),  # a GIF named .jpg
        ({"files": [SimpleUploadedFile("script.pdf", b"<script>alert(1)</script>")]}, "files"),
        ({"files": [SimpleUploadedFile("photo.png", JPEG)]}, "files"),  # a JPEG named .png
        ({"files": [SimpleUploadedFile("empty.png", b"")]}, "files"),
    ],
)
def test_closing_refuses_bad_feedback_and_files_and_stores_nothing(cast, whistle, fields, field):
    d12 = checked_in(task_of(whistle, "D12"), cast.d12_staff)
    before = snapshot(Task, Feedback, Attachment, Event)

    with pytest.raises(InvalidInput) as caught:
        close(d12, cast.d12_staff, **fields)

    assert field in caught.value.fields
    assert snapshot(Task, Feedback, Attachment, Event) == before


def test_closing_refuses_files_too_large_or_too_many(cast, whistle, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    d12 = checked_in(task_of(whistle, "D12"), cast.d12_staff)

    with pytest.raises(InvalidInput) as caught:
        close(d12, cast.d12_staff, files=[SimpleUploadedFile("big.png", PNG + b"\x00" * 100)])
    assert "larger than" in caught.value.fields["files"][0]

    with pytest.raises(InvalidInput) as caught:
        close(d12, cast.d12_staff, files=[SimpleUploadedFile(f"{i}.png", PNG) for i in range(11)])
    assert "At most 10 files" in caught.value.fields["files"][0]
    assert not Feedback.objects.exists()


def test_a_task_not_checked_in_cannot_be_closed(cast, lead):
    with pytest.raises(Conflict):
        close(lead, cast.d13_staff)
    assert not Feedback.objects.exists()


def test_the_lead_closes_last_and_then_the_whistle_is_resolved(cast, whistle, lead):
    lead = checked_in(lead, cast.d13_staff)
    d12 = checked_in(task_of(whistle, "D12"), cast.d12_staff)
    e06 = task_of(whistle, "E06")

    with pytest.raises(Conflict) as caught:
        close(lead, cast.d13_staff)
    assert "D12" in caught.value.message and "E06" in caught.value.message

    close(d12, cast.d12_staff)
    task_release(task=e06, actor=cast.s01_dispatcher, note="环卫无需参与")
    with time_machine.travel(MONDAY_10 + timedelta(days=3), tick=False):
        close(lead, cast.d13_staff, result="partly_solved")

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.RESOLVED
    assert whistle.resolved_at == MONDAY_10 + timedelta(days=3)
    assert Event.objects.filter(whistle=whistle, verb="resolved").count() == 1
    assert Notification.objects.filter(verb="resolved", street=cast.s01).count() == 1


def test_only_the_streets_dispatcher_releases_and_only_a_co_operating_task(cast, whistle, lead):
    e06 = task_of(whistle, "E06")
    for user in (cast.s01_staff, cast.s02_dispatcher, cast.d13_staff):
        with pytest.raises(NotAllowed):
            task_release(task=e06, actor=user)
    with pytest.raises(Conflict):
        task_release(task=lead, actor=cast.s01_dispatcher)

    task_release(task=e06, actor=cast.s01_dispatcher)
    e06.refresh_from_db()
    assert e06.status == Task.Status.RELEASED
    assert Notification.objects.filter(verb="released", department=cast.e06, task=e06).count() == 1
    with pytest.raises(Conflict):
        task_release(task=e06, actor=cast.s01_dispatcher)


# Grant ------------------------------------------------------------------------------------------


def test_the_lead_head_grants_a_co_operating_member_a_hand_on_the_lead_task(cast, whistle, lead, d13_head):
    with pytest.raises(NotAllowed):
        task_acknowledge(task=lead, actor=cast.d12_staff)
    with pytest.raises(NotAllowed):
        task_grant(task=lead, actor=cast.d13_staff, username="d12_staff")
    with pytest.raises(InvalidInput) as caught:
        task_grant(task=lead, actor=d13_head, username="t01_staff")
    assert "username" in caught.value.fields

    task_grant(task=lead, actor=d13_head, username="d12_staff")

    task_acknowledge(task=lead, actor=cast.d12_staff)
    lead.refresh_from_db()
    assert lead.status == Task.Status.ACKNOWLEDGED
    assert Event.objects.get(task=lead, verb="granted").new == {"user": "d12_staff", "department": "D12"}
    assert lead in task_list(user=cast.d12_staff)


# The task list ----------------------------------------------------------------------------------


def test_the_light_turns_yellow_then_red_with_the_stage_due_and_filters_in_sql(cast, whistle, lead):
    d12 = checked_in(task_of(whistle, "D12"), cast.d12_staff)

    def lights(at):
        with time_machine.travel(at, tick=False):
            tasks = task_list(user=cast.supervisor)
            return {t.department.code: (t.stage, t.light) for t in tasks}, {
                light: sorted(t.department.code for t in tasks.filter(light=light))
                for light in ("green", "yellow", "red")
            }

    shown, filtered = lights(MONDAY_10 + timedelta(minutes=30))
    assert shown == {"D13": ("acknowledge", "green"), "E06": ("acknowledge", "green"), "D12": ("resolve", "green")}
    # 80 % of 2 working hours: 11:36.
    shown, filtered = lights(MONDAY_10 + timedelta(minutes=100))
    assert shown["D13"] == ("acknowledge", "yellow") and shown["D12"] == ("resolve", "green")
    assert filtered == {"green": ["D12"], "yellow": ["D13", "E06"], "red": []}
    shown, filtered = lights(MONDAY_10 + timedelta(hours=3))
    assert filtered == {"green": ["D12"], "yellow": [], "red": ["D13", "E06"]}

    close(d12, cast.d12_staff)
    shown, filtered = lights(MONDAY_10 + timedelta(hours=3))
    assert shown["D12"] == ("", "")
    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        counts = task_counts(task_list(user=cast.supervisor))
    assert counts["total"] == 3 and counts["closed"] == 1 and counts["pending"] == 2 and counts["light_red"] == 2


def test_a_department_lists_only_its_own_tasks_nearest_deadline_first(cast, whistle):
    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        later = routed_whistle(cast.s01_staff, title="第二件")
    with time_machine.travel(MONDAY_10 + timedelta(hours=2), tick=False):
        task_acknowledge(task=task_of(later, "D13"), actor=cast.d13_staff)
        # The acknowledged task's check-in is due tomorrow; the other's acknowledgement today.
        assert [t.whistle_id for t in task_list(user=cast.d13_staff)] == [whistle.pk, later.pk]
    assert {t.department.code for t in task_list(user=cast.d12_staff)} == {"D12"}
    assert not task_list(user=cast.hotline).exists()

"""The street side of a resolved whistle: confirm, reopen, rate the departments, record the citizen's callback."""

from datetime import datetime

import pytest
import time_machine

from config.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import submit_whistle
from tests.whistle.lifecycle import MONDAY_10, SHANGHAI, close_all, closed, resolved, routed, snapshot
from whistle.models import Callback, Event, Notification, Rating, Task, Whistle
from whistle.services import (
    whistle_callback,
    whistle_confirm,
    whistle_rate,
    whistle_reopen,
    whistle_route,
)
from whistle.services.tasks import task_release

WEDNESDAY_14 = datetime(2026, 3, 4, 14, 0, tzinfo=SHANGHAI)


# Confirm -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["s01_staff", "s01_deputy", "s01_head", "s01_dispatcher"])
def test_the_street_confirms_a_resolved_whistle_and_it_is_closed(cast, username):
    with time_machine.travel(MONDAY_10, tick=False):
        whistle = resolved(cast)

    with time_machine.travel(WEDNESDAY_14, tick=False):
        whistle_confirm(whistle=whistle, actor=getattr(cast, username))

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.CLOSED
    assert whistle.closed_at == WEDNESDAY_14
    event = Event.objects.filter(whistle=whistle).last()
    assert (event.verb, event.actor, event.old, event.new) == (
        "confirmed",
        getattr(cast, username),
        {"status": "resolved"},
        {"status": "closed"},
    )


@pytest.mark.parametrize("username", ["s02_staff", "s01_grid", "s01_party", "d13_staff", "supervisor", "hotline"])
def test_only_the_whistles_own_street_officials_confirm(cast, username):
    whistle = resolved(cast)
    before = snapshot(whistle)

    with pytest.raises(NotAllowed):
        whistle_confirm(whistle=whistle, actor=getattr(cast, username))

    assert snapshot(whistle) == before


def test_a_whistle_not_resolved_cannot_be_confirmed(cast):
    whistle = routed(cast)
    before = snapshot(whistle)

    with pytest.raises(Conflict, match="only a resolved whistle is confirmed"):
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)

    assert snapshot(whistle) == before
    closed_whistle = closed(cast)
    with pytest.raises(Conflict):
        whistle_confirm(whistle=closed_whistle, actor=cast.s01_head)


# Reopen ------------------------------------------------------------------------------------------


def test_reopening_sends_every_closed_task_back_with_new_deadlines_from_now_and_notifies_each_department(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        whistle = resolved(cast)
    with time_machine.travel(WEDNESDAY_14, tick=False):
        whistle_reopen(whistle=whistle, actor=cast.s01_head, reason="  楼道仍有杂物  ")

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED
    assert (whistle.reopens, whistle.resolved_at, whistle.closed_at) == (1, None, None)
    tasks = list(whistle.tasks.select_related("department"))
    assert {t.department.code: t.status for t in tasks} == {"D13": "pending", "D12": "pending", "E06": "pending"}
    for task in tasks:
        # Ordinary grade, counted from Wednesday 14:00: 2 working hours, 1 working day, 7 working days.
        assert task.acknowledge_due_at == datetime(2026, 3, 4, 16, 0, tzinfo=SHANGHAI)
        assert task.checkin_due_at == datetime(2026, 3, 5, 14, 0, tzinfo=SHANGHAI)
        assert task.resolve_due_at == datetime(2026, 3, 13, 14, 0, tzinfo=SHANGHAI)
        assert task.resolve_warn_at > WEDNESDAY_14
        # The finished round's facts stay in its events; the new round starts without them.
        assert (task.closed_at, task.checked_in_at, task.acknowledged_at, task.closed_on_time) == (None,) * 4
    [event] = Event.objects.filter(whistle=whistle, task=None, verb="reopened")
    assert (event.reason, event.actor, event.old, event.new) == (
        "楼道仍有杂物",
        cast.s01_head,
        {"status": "resolved"},
        {"status": "routed"},
    )
    task_events = Event.objects.filter(whistle=whistle, task__isnull=False, verb="reopened")
    assert task_events.count() == 3
    assert all(e.old["status"] == "closed" and e.new["status"] == "pending" for e in task_events)
    notices = Notification.objects.filter(whistle=whistle, verb="reopened")
    assert sorted((n.department.code, n.task.department.code) for n in notices) == [
        ("D12", "D12"),
        ("D13", "D13"),
        ("E06", "E06"),
    ]


def test_a_reopened_whistle_is_resolved_again_when_the_departments_close_again(cast):
    whistle = resolved(cast)
    whistle_reopen(whistle=whistle, actor=cast.s01_staff, reason="未彻底清理")

    close_all(cast, whistle)
    whistle_confirm(whistle=whistle, actor=cast.s01_staff)

    whistle.refresh_from_db()
    assert (whistle.status, whistle.reopens) == (Whistle.Status.CLOSED, 1)


def test_a_released_department_is_not_summoned_again_by_a_reopening(cast):
    whistle = routed(cast)
    task_release(task=whistle.tasks.get(department=cast.e06), actor=cast.s01_dispatcher, note="无需环卫")
    close_all(cast, whistle)

    whistle_reopen(whistle=whistle, actor=cast.s01_staff, reason="未彻底清理")

    statuses = dict(whistle.tasks.values_list("department__code", "status"))
    assert statuses == {"D13": "pending", "D12": "pending", "E06": "released"}
    assert not Notification.objects.filter(whistle=whistle, verb="reopened", department=cast.e06).exists()


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2001])
def test_a_reopening_needs_a_reason_of_at_most_2000_characters_and_changes_nothing(cast, reason):
    whistle = resolved(cast)
    before = snapshot(whistle)

    with pytest.raises(InvalidInput) as error:
        whistle_reopen(whistle=whistle, actor=cast.s01_staff, reason=reason)

    assert list(error.value.fields) == ["reason"]
    assert snapshot(whistle) == before


def test_reopen_is_refused_to_another_street_and_in_any_state_but_resolved(cast):
    whistle = resolved(cast)
    with pytest.raises(NotAllowed):
        whistle_reopen(whistle=whistle, actor=cast.s02_head, reason="x")
    with pytest.raises(NotAllowed):
        whistle_reopen(whistle=whistle, actor=cast.d13_staff, reason="x")
    for other in (routed(cast), closed(cast)):
        before = snapshot(other)
        with pytest.raises(Conflict, match="only a resolved whistle can be reopened"):
            whistle_reopen(whistle=other, actor=cast.s01_staff, reason="x")
        assert snapshot(other) == before


def test_a_quick_whistle_reopened_after_its_appointed_time_gets_the_grades_check_in_window(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        appointed = datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)
        whistle = routed(cast, mode="quick", appointed_checkin_at=appointed)
        assert {t.checkin_due_at for t in whistle.tasks.all()} == {appointed}
        close_all(cast, whistle)
    with time_machine.travel(WEDNESDAY_14, tick=False):
        whistle_reopen(whistle=whistle, actor=cast.s01_staff, reason="未彻底清理")

    assert {t.checkin_due_at for t in whistle.tasks.all()} == {datetime(2026, 3, 5, 14, 0, tzinfo=SHANGHAI)}


# Rating ------------------------------------------------------------------------------------------


def rate(cast, whistle, department="D13", actor=None, **scores):
    values = {"response": 5, "attitude": 4, "result": 3, "comment": "到场及时", **scores}
    return whistle_rate(whistle=whistle, actor=actor or cast.s01_staff, department=department, **values)


def test_the_street_rates_each_department_that_reported_in(cast):
    whistle = resolved(cast)

    for code in ("D13", "D12", "E06"):
        rate(cast, whistle, code)

    ratings = {r.department.code: r for r in Rating.objects.filter(whistle=whistle)}
    assert set(ratings) == {"D13", "D12", "E06"}
    d13 = ratings["D13"]
    assert (d13.response, d13.attitude, d13.result, d13.comment, d13.rated_by) == (5, 4, 3, "到场及时", cast.s01_staff)
    event = Event.objects.filter(whistle=whistle, verb="rated").first()
    assert event.new == {"department": "D13", "response": 5, "attitude": 4, "result": 3}
    assert event.task.department == cast.d13


def test_a_closed_whistle_may_still_be_rated(cast):
    whistle = closed(cast)
    rate(cast, whistle, "D12", actor=cast.s01_head)
    assert Rating.objects.filter(whistle=whistle, department=cast.d12).exists()


def test_a_department_is_rated_once(cast):
    whistle = resolved(cast)
    rate(cast, whistle)
    before = snapshot(whistle)

    with pytest.raises(Conflict, match="already rated"):
        rate(cast, whistle, response=1, actor=cast.s01_head)

    assert snapshot(whistle) == before
    assert Rating.objects.get(whistle=whistle, department=cast.d13).response == 5


def test_only_a_department_that_reported_in_is_rated(cast):
    whistle = routed(cast)
    task_release(task=whistle.tasks.get(department=cast.e06), actor=cast.s01_dispatcher, note="无需环卫")
    close_all(cast, whistle)
    before = snapshot(whistle)

    for code, message in (
        ("E06", "E06 did not report in on this whistle"),
        ("T01", "T01 did not report in on this whistle"),
        ("X99", "Unknown department X99."),
        ("", "Choose the department to rate."),
    ):
        with pytest.raises(InvalidInput) as error:
            rate(cast, whistle, code)
        assert message in error.value.fields["department"][0]
    assert snapshot(whistle) == before


@pytest.mark.parametrize(
    "scores, fields",
    [
        ({"response": 0}, ["response"]),
        ({"attitude": 6}, ["attitude"]),
        ({"result": "3"}, ["result"]),
        ({"response": True}, ["response"]),
        ({"response": None, "result": 2.5}, ["response", "result"]),
        ({"comment": "好" * 2001}, ["comment"]),
    ],
)
def test_each_score_is_a_whole_number_from_1_to_5_and_the_error_names_it(cast, scores, fields):
    whistle = resolved(cast)
    before = snapshot(whistle)

    with pytest.raises(InvalidInput) as error:
        rate(cast, whistle, **scores)

    assert sorted(error.value.fields) == sorted(fields)
    if "response" in fields:
        assert "Give response a whole number from 1 to 5." in error.value.fields["response"]
    assert snapshot(whistle) == before


def test_rating_waits_for_the_resolution_and_is_for_the_whistles_street(cast):
    whistle = routed(cast)
    with pytest.raises(Conflict, match="rated once it is resolved"):
        rate(cast, whistle)
    whistle = resolved(cast)
    for user in (cast.s02_staff, cast.d13_staff, cast.supervisor, cast.hotline):
        with pytest.raises(NotAllowed):
            rate(cast, whistle, actor=user)
    assert not Rating.objects.exists()


# Citizen callback --------------------------------------------------------------------------------


def hotline_closed(cast) -> Whistle:
    """A hotline whistle of S01, closed by the street."""
    return closed(cast, user=cast.hotline, source="hotline", caller_name="张女士", caller_phone="13800000000")


def test_the_hotline_records_a_satisfied_callback_and_nothing_else_changes(cast):
    whistle = hotline_closed(cast)
    before = snapshot(whistle)

    callback = whistle_callback(
        whistle=whistle, actor=cast.hotline, satisfaction="satisfied", solved=True, note="市民表示满意"
    )

    assert (callback.satisfaction, callback.solved, callback.recorded_by) == ("satisfied", True, cast.hotline)
    after = snapshot(whistle)
    assert after["whistle"] == before["whistle"] and after["tasks"] == before["tasks"]
    assert after["events"] == before["events"] + 1
    event = Event.objects.filter(whistle=whistle).last()
    assert (event.verb, event.reason, event.new) == (
        "callback",
        "市民表示满意",
        {"satisfaction": "satisfied", "solved": True},
    )


@pytest.mark.parametrize("satisfaction, solved", [("dissatisfied", True), ("basically_satisfied", False)])
def test_only_dissatisfied_and_not_solved_reopens(cast, satisfaction, solved):
    whistle = closed(cast)
    whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction=satisfaction, solved=solved)
    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.CLOSED and whistle.reopens == 0


def test_a_dissatisfied_citizen_reopens_the_whistle_once_then_supervisors_are_told(cast):
    from tests.factories import DistrictFactory, MembershipFactory, UserFactory

    other_district = DistrictFactory(code="HD", name="海淀区")
    other_district_supervisor = MembershipFactory(
        user=UserFactory(username="other_supervisor"), role="supervisor", street=None, district=other_district
    ).user
    with time_machine.travel(MONDAY_10, tick=False):
        whistle = hotline_closed(cast)
    with time_machine.travel(WEDNESDAY_14, tick=False):
        whistle_callback(whistle=whistle, actor=cast.hotline, satisfaction="dissatisfied", solved=False, note="没修好")

    whistle.refresh_from_db()
    assert (whistle.status, whistle.reopens, whistle.closed_at, whistle.escalated_at) == ("routed", 1, None, None)
    assert set(whistle.tasks.values_list("status", flat=True)) == {Task.Status.PENDING}
    assert {t.resolve_due_at for t in whistle.tasks.all()} == {datetime(2026, 3, 13, 14, 0, tzinfo=SHANGHAI)}
    [event] = Event.objects.filter(whistle=whistle, task=None, verb="callback_reopened")
    assert (event.reason, event.old, event.new) == ("没修好", {"status": "closed"}, {"status": "routed"})
    assert Notification.objects.filter(whistle=whistle, verb="reopened").count() == 3

    # The departments work again, the street confirms again, and the citizen is still unhappy.
    close_all(cast, whistle)
    whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    with time_machine.travel(datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        whistle_callback(whistle=whistle, actor=cast.hotline, satisfaction="dissatisfied", solved=False)

    whistle.refresh_from_db()
    assert (whistle.status, whistle.reopens) == ("closed", 1)
    assert whistle.escalated_at == datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI)
    assert Event.objects.filter(whistle=whistle, verb="callback_escalated").count() == 1
    escalated = Notification.objects.filter(whistle=whistle, verb="escalated")
    assert [n.recipient for n in escalated] == [cast.supervisor]
    assert other_district_supervisor not in [n.recipient for n in escalated]

    # A third unhappy callback is recorded; the supervisors are not told twice.
    whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="dissatisfied", solved=False)
    whistle.refresh_from_db()
    assert whistle.status == "closed" and escalated.count() == 1
    assert Callback.objects.filter(whistle=whistle).count() == 3
    assert Event.objects.filter(whistle=whistle).last().verb == "callback"


def test_a_callback_waits_for_the_confirmation(cast):
    whistle = resolved(cast, user=cast.hotline, source="hotline")
    before = snapshot(whistle)

    with pytest.raises(Conflict, match="once the street has confirmed it"):
        whistle_callback(whistle=whistle, actor=cast.hotline, satisfaction="satisfied", solved=True)

    assert snapshot(whistle) == before


def test_the_hotline_records_callbacks_only_for_its_own_whistles_and_streets_only_for_theirs(cast):
    street_whistle = closed(cast)
    hotline_whistle = hotline_closed(cast)
    before = snapshot(street_whistle)

    with pytest.raises(NotAllowed):
        whistle_callback(whistle=street_whistle, actor=cast.hotline, satisfaction="satisfied", solved=True)
    for user in (cast.s02_staff, cast.d13_staff, cast.supervisor, cast.s01_grid):
        with pytest.raises(NotAllowed):
            whistle_callback(whistle=hotline_whistle, actor=user, satisfaction="satisfied", solved=True)

    assert snapshot(street_whistle) == before
    # The whistle's own street may record the callback of a hotline whistle too.
    whistle_callback(whistle=hotline_whistle, actor=cast.s01_head, satisfaction="satisfied", solved=True)


@pytest.mark.parametrize(
    "data, fields",
    [
        ({"satisfaction": "meh"}, ["satisfaction"]),
        ({"satisfaction": ""}, ["satisfaction"]),
        ({"solved": "yes"}, ["solved"]),
        ({"solved": None}, ["solved"]),
        ({"note": "x" * 2001}, ["note"]),
        ({"satisfaction": None, "solved": 1}, ["satisfaction", "solved"]),
    ],
)
def test_a_callback_with_bad_input_names_the_field_and_changes_nothing(cast, data, fields):
    whistle = closed(cast)
    before = snapshot(whistle)

    with pytest.raises(InvalidInput) as error:
        whistle_callback(
            whistle=whistle, actor=cast.s01_staff, **{"satisfaction": "dissatisfied", "solved": False, **data}
        )

    assert sorted(error.value.fields) == fields
    assert snapshot(whistle) == before


# Quick whistles ----------------------------------------------------------------------------------


@pytest.fixture
def heads(cast):
    from tests.factories import MembershipFactory, UserFactory

    return {
        code: MembershipFactory(
            user=UserFactory(username=f"{code.lower()}_head"), role="dept_head", street=None, department=unit
        ).user
        for code, unit in (("D13", cast.d13), ("D12", cast.d12))
    }


@time_machine.travel(MONDAY_10, tick=False)
def test_a_quick_whistle_notifies_the_heads_of_every_summoned_department_at_once(cast, heads):
    appointed = datetime(2026, 3, 2, 11, 30, tzinfo=SHANGHAI)
    whistle = submit_whistle(cast.s01_head, mode="quick", appointed_checkin_at=appointed).whistle

    whistle_route(whistle_id=whistle.pk)

    notices = Notification.objects.filter(whistle=whistle, verb="quick_summoned").select_related("task__department")
    # E06 has no head: its staff get the department's "summoned" notice like everyone else.
    assert sorted((n.recipient.username, n.task.department.code) for n in notices) == [
        ("d12_head", "D12"),
        ("d13_head", "D13"),
    ]
    assert {n.task.checkin_due_at for n in notices} == {appointed}
    assert Notification.objects.filter(whistle=whistle, verb="summoned").count() == 3


def test_a_regular_whistle_summons_the_departments_not_their_heads(cast, heads):
    whistle = routed(cast)
    assert not Notification.objects.filter(whistle=whistle, verb="quick_summoned").exists()


@time_machine.travel(MONDAY_10, tick=False)
def test_a_batch_of_quick_whistles_looks_up_the_heads_in_one_query(cast, heads):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from whistle.services import whistles_route_waiting

    appointed = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
    whistles = [submit_whistle(cast.s01_staff, mode="quick", appointed_checkin_at=appointed).whistle for _ in range(3)]
    whistles.append(submit_whistle(cast.s01_staff).whistle)

    with CaptureQueriesContext(connection) as queries:
        assert whistles_route_waiting() == 4

    membership_queries = [q["sql"] for q in queries if "departments_membership" in q["sql"]]
    assert len(membership_queries) == 1, membership_queries
    assert Notification.objects.filter(verb="quick_summoned").count() == 6
    assert set(Notification.objects.filter(verb="quick_summoned").values_list("whistle_id", flat=True)) == {
        w.pk for w in whistles[:3]
    }

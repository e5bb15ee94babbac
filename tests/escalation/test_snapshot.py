"""The process's calendar snapshot, and stage_deadlines() over the policies."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from escalation.models import SlaPolicy, WorkCalendarDay, WorkSchedule
from escalation.policy import Calendar, DeadlineError, current_calendar, stage_deadlines
from tests.escalation.conftest import at


def test_an_unchanged_calendar_costs_one_read_and_is_not_rebuilt(db, django_assert_num_queries):
    first = current_calendar()

    with django_assert_num_queries(1):
        second = current_calendar()

    assert second is first


def test_an_admin_edit_reaches_the_snapshot_at_the_next_call(superuser_client, django_assert_num_queries):
    before = current_calendar()
    assert before.is_working_day(dt.date(2026, 11, 10))

    response = superuser_client.post(
        reverse("admin:escalation_workcalendarday_add"),
        {
            "date": "2026-11-10",
            "is_working_day": "",
            "name": "Typhoon day",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    with django_assert_num_queries(5):  # the stamp, then policies, days, years and working hours
        after = current_calendar()
    assert after is not before
    assert not after.is_working_day(dt.date(2026, 11, 10))
    assert before.is_working_day(dt.date(2026, 11, 10))  # a snapshot never changes under its holder
    assert WorkCalendarDay.objects.get(date=dt.date(2026, 11, 10)).source == "administrator"
    with django_assert_num_queries(1):
        assert current_calendar() is after


def test_an_admin_edit_of_the_working_hours_moves_deadlines(superuser_client):
    response = superuser_client.post(
        reverse("admin:escalation_workschedule_change", args=[1]),
        {
            "day_start": "09:00",
            "day_end": "17:00",
        },
    )
    assert response.status_code == 302

    deadlines = stage_deadlines(grade="ordinary", start=at("2026-11-09 16:00"))

    assert deadlines.acknowledge_due == at("2026-11-10 10:00")  # 1 h on Monday, 1 h from 09:00 on Tuesday


def test_an_edit_rolled_back_leaves_the_snapshot_as_it_was(db):
    current_calendar()
    with transaction.atomic():
        WorkCalendarDay.objects.create(date=dt.date(2026, 11, 11), is_working_day=False, name="rolled back")
        assert not current_calendar().is_working_day(dt.date(2026, 11, 11))
        transaction.set_rollback(True)

    assert current_calendar().is_working_day(dt.date(2026, 11, 11))


def test_stage_deadlines_follow_the_policy_of_the_grade(db):
    start = at("2026-11-06 16:00")  # a Friday afternoon

    ordinary = stage_deadlines(grade="ordinary", start=start)
    priority = stage_deadlines(grade="priority", start=start)
    difficult = stage_deadlines(grade="difficult", start=start)

    assert (ordinary.acknowledge_due, ordinary.checkin_due, ordinary.resolve_due) == (
        at("2026-11-09 09:00"),
        at("2026-11-09 16:00"),
        at("2026-11-17 16:00"),
    )
    assert ordinary.acknowledge_warning_at == at("2026-11-09 08:36")  # 96 of 120 working minutes
    assert not ordinary.requires_joint_meeting
    assert (priority.acknowledge_due, priority.checkin_due, priority.resolve_due) == (
        at("2026-11-06 16:30"),
        at("2026-11-06 18:00"),
        at("2026-11-07 16:00"),
    )
    assert priority.resolve_warning_at == at("2026-11-07 10:00")  # 18 of 24 clock hours
    assert (difficult.checkin_due, difficult.resolve_due) == (at("2026-11-10 16:00"), at("2026-11-27 16:00"))
    assert difficult.requires_joint_meeting


def test_stage_deadlines_cost_one_read_a_call_once_the_snapshot_is_built(db, django_assert_num_queries):
    stage_deadlines(grade="ordinary", start=at("2026-11-09 10:00"))

    with django_assert_num_queries(3):
        for grade in ("ordinary", "priority", "difficult"):
            stage_deadlines(grade=grade, start=at("2026-11-09 10:00"))


def test_stage_deadlines_with_calendar_and_policy_given_touch_no_database(db, django_assert_num_queries):
    policy = SlaPolicy.objects.get(grade="ordinary")
    calendar = Calendar()

    with django_assert_num_queries(0):
        deadlines = stage_deadlines(grade="ordinary", start=at("2026-11-09 10:00"), calendar=calendar, policy=policy)

    assert deadlines.resolve_due == at("2026-11-18 10:00")


def test_stage_deadlines_given_the_current_calendar_read_nothing_more(db, django_assert_num_queries):
    current_calendar()  # built by an earlier request
    with django_assert_num_queries(1):
        calendar = current_calendar()  # once per batch (after the snapshot was built)
    with django_assert_num_queries(0):
        deadlines = [
            stage_deadlines(grade=g, start=at("2026-11-09 10:00"), calendar=calendar) for g in ("ordinary", "priority")
        ]

    assert deadlines[0].resolve_due == at("2026-11-18 10:00")
    assert deadlines[1].resolve_due == at("2026-11-10 10:00")


def test_a_policy_edit_reaches_stage_deadlines(db):
    stage_deadlines(grade="ordinary", start=at("2026-11-09 10:00"))
    policy = SlaPolicy.objects.get(grade="ordinary")
    policy.resolve_amount, policy.warning_ratio = 3, Decimal("0.50")
    policy.save()

    deadlines = stage_deadlines(grade="ordinary", start=at("2026-11-09 10:00"))

    assert deadlines.resolve_due == at("2026-11-12 10:00")
    assert deadlines.resolve_warning_at == at("2026-11-10 14:30")


def test_a_grade_without_a_policy_is_a_clear_error(db):
    SlaPolicy.objects.filter(grade="difficult").delete()

    with pytest.raises(DeadlineError, match="no deadline policy for the grade 'difficult'"):
        stage_deadlines(grade="difficult", start=at("2026-11-09 10:00"))


def test_a_policy_of_another_grade_is_refused(db):
    with pytest.raises(DeadlineError, match="for the grade 'priority', not 'ordinary'"):
        stage_deadlines(grade="ordinary", start=at("2026-11-09 10:00"), policy=SlaPolicy.objects.get(grade="priority"))


def test_a_missing_working_hours_row_falls_back_to_the_default(db):
    WorkSchedule.objects.all().delete()

    assert (current_calendar().day_start, current_calendar().day_end) == (dt.time(8, 30), dt.time(17, 30))

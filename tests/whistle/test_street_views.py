"""The street side and joint meetings on the whistle page: each form for the roles allowed, errors in place."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.whistle.lifecycle import MONDAY_10, closed, resolved, routed, snapshot
from whistle.models import Callback, JointMeeting, Rating, Whistle

AT_LOCAL = "2026-03-03T09:30"  # the form's datetime-local, Asia/Shanghai


def page_of(whistle) -> str:
    return reverse("whistle:detail", args=[whistle.number])


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_street_sees_confirm_reopen_and_rate_on_a_resolved_whistle_and_others_do_not(client, cast):
    whistle = resolved(cast)

    page = signed_in(client, cast.s01_staff).get(page_of(whistle)).content.decode()
    for form in ('id="action-confirm"', 'id="action-reopen"', 'id="action-rate"'):
        assert form in page
    assert 'value="D13"' in page and 'id="action-callback"' not in page

    for user in (cast.s01_grid, cast.d13_staff, cast.supervisor):
        page = signed_in(client, user).get(page_of(whistle)).content.decode()
        assert 'id="action-confirm"' not in page and 'id="action-rate"' not in page, user


def test_the_street_confirms_on_the_page(client, cast):
    whistle = resolved(cast)

    response = signed_in(client, cast.s01_head).post(reverse("whistle:confirm", args=[whistle.number]), follow=True)

    assert "is confirmed and closed" in response.content.decode()
    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.CLOSED
    # A second confirmation is refused with a message, not an error page.
    response = client.post(reverse("whistle:confirm", args=[whistle.number]), follow=True)
    assert "only a resolved whistle is confirmed" in response.content.decode()


def test_confirming_another_streets_whistle_is_404_and_beyond_ones_role_403(client, cast):
    whistle = resolved(cast)
    before = snapshot(whistle)

    assert signed_in(client, cast.s02_staff).post(reverse("whistle:confirm", args=[whistle.number])).status_code == 404
    assert signed_in(client, cast.s01_grid).post(reverse("whistle:confirm", args=[whistle.number])).status_code == 403
    assert snapshot(whistle) == before


def test_a_reopening_without_a_reason_shows_the_error_beside_the_field_and_changes_nothing(client, cast):
    whistle = resolved(cast)
    before = snapshot(whistle)
    signed_in(client, cast.s01_staff)

    response = client.post(reverse("whistle:reopen", args=[whistle.number]), {"reason": " "})

    assert response.status_code == 400
    page = response.content.decode()
    assert "has-errors" in page and "Say why the whistle is reopened." in page
    assert snapshot(whistle) == before

    response = client.post(reverse("whistle:reopen", args=[whistle.number]), {"reason": "仍有杂物"}, follow=True)
    assert "is reopened" in response.content.decode()
    whistle.refresh_from_db()
    assert (whistle.status, whistle.reopens) == (Whistle.Status.ROUTED, 1)


def test_rating_on_the_page_with_errors_in_place_then_once_per_department(client, cast):
    whistle = resolved(cast)
    signed_in(client, cast.s01_staff)
    path = reverse("whistle:rate", args=[whistle.number])

    response = client.post(path, {"department": "D13", "response": "5", "attitude": "", "result": "9"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Give attitude a whole number from 1 to 5." in page and "Give result a whole number from 1 to 5." in page
    assert not Rating.objects.exists()

    response = client.post(
        path, {"department": "D13", "response": "5", "attitude": "4", "result": "4", "comment": "及时"}, follow=True
    )
    assert "The rating is recorded." in response.content.decode()
    page = client.get(page_of(whistle)).content.decode()
    assert 'id="whistle-ratings"' in page
    # D13 is rated: the form offers only the others.
    assert 'value="D13"' not in page and 'value="D12"' in page
    response = client.post(path, {"department": "D13", "response": "1", "attitude": "1", "result": "1"}, follow=True)
    assert "already rated" in response.content.decode()
    assert Rating.objects.get().response == 5


def test_a_callback_on_the_page_reopens_once_and_shows_errors_in_place(client, cast):
    whistle = closed(cast)
    signed_in(client, cast.s01_staff)
    assert 'id="action-callback"' in client.get(page_of(whistle)).content.decode()
    path = reverse("whistle:callback", args=[whistle.number])

    response = client.post(path, {"satisfaction": "dissatisfied", "solved": ""})
    assert response.status_code == 400
    assert "Say whether the matter is solved" in response.content.decode()
    assert not Callback.objects.exists()

    response = client.post(path, {"satisfaction": "dissatisfied", "solved": "no", "note": "没修好"}, follow=True)

    assert "callback on whistle" in response.content.decode()
    whistle.refresh_from_db()
    assert (whistle.status, whistle.reopens) == (Whistle.Status.ROUTED, 1)
    assert 'id="whistle-callbacks"' in response.content.decode()


# Meetings ------------------------------------------------------------------------------------


@pytest.fixture
def difficult(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        return routed(cast, user=cast.s01_head, grade="difficult")


@time_machine.travel(MONDAY_10, tick=False)
def test_the_street_schedules_a_meeting_on_the_page_with_errors_in_place(client, cast, difficult):
    signed_in(client, cast.s01_deputy)
    assert 'id="action-schedule-meeting"' in client.get(page_of(difficult)).content.decode()
    path = reverse("whistle:meeting_schedule", args=[difficult.number])

    response = client.post(path, {"scheduled_at": "2026-03-01T09:30", "place": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The meeting must be in the future." in page and "Say where the meeting is held." in page
    assert not JointMeeting.objects.exists()

    response = client.post(path, {"scheduled_at": AT_LOCAL, "place": "街道办三楼", "agenda": "分工"}, follow=True)

    assert "is scheduled" in response.content.decode()
    meeting = JointMeeting.objects.get()
    assert meeting.scheduled_at.isoformat() == "2026-03-03T01:30:00+00:00"
    page = response.content.decode()
    assert 'id="action-schedule-meeting"' not in page and 'id="action-meeting-close"' in page


def test_dispatchers_and_departments_get_no_scheduling_form(client, cast, difficult):
    for user in (cast.s01_dispatcher, cast.d13_staff):
        assert 'id="action-schedule-meeting"' not in signed_in(client, user).get(page_of(difficult)).content.decode()
    response = signed_in(client, cast.s01_dispatcher).post(
        reverse("whistle:meeting_schedule", args=[difficult.number]), {"scheduled_at": AT_LOCAL, "place": "x"}
    )
    assert response.status_code == 403


def test_a_department_checks_in_on_the_page_and_the_street_closes_the_meeting(client, cast, difficult):
    from whistle.services import meeting_schedule

    with time_machine.travel(MONDAY_10, tick=False):
        meeting = meeting_schedule(
            whistle=difficult, actor=cast.s01_staff, scheduled_at=MONDAY_10 + timedelta(hours=2), place="现场"
        )
    signed_in(client, cast.d13_staff)
    page = client.get(page_of(difficult)).content.decode()
    assert 'id="action-meeting-attend"' in page and 'id="action-meeting-close"' not in page

    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=20), tick=False):
        response = client.post(reverse("whistle:meeting_attend", args=[meeting.pk]), follow=True)
    assert "checked in to the meeting" in response.content.decode()
    assert 'id="action-meeting-attend"' not in response.content.decode()
    assert meeting.attendance.get(department=cast.d13).status == "late"
    assert (
        signed_in(client, cast.d13_staff).post(reverse("whistle:meeting_close", args=[meeting.pk])).status_code == 403
    )

    signed_in(client, cast.s01_head)
    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        response = client.post(reverse("whistle:meeting_close", args=[meeting.pk]), follow=True)
    assert "recorded as held" in response.content.decode()
    assert dict(meeting.attendance.values_list("department__code", "status")) == {
        "D13": "late",
        "D12": "absent",
        "E06": "absent",
    }
    assert (
        signed_in(client, cast.s02_staff).post(reverse("whistle:meeting_close", args=[meeting.pk])).status_code == 404
    )


def test_a_meeting_is_cancelled_on_the_page_with_a_reason(client, cast, difficult):
    from whistle.services import meeting_schedule

    with time_machine.travel(MONDAY_10, tick=False):
        meeting = meeting_schedule(
            whistle=difficult, actor=cast.s01_staff, scheduled_at=MONDAY_10 + timedelta(hours=2), place="现场"
        )
    signed_in(client, cast.s01_staff)
    path = reverse("whistle:meeting_cancel", args=[meeting.pk])

    response = client.post(path, {"reason": ""})
    assert response.status_code == 400 and "Say why the meeting is cancelled." in response.content.decode()

    response = client.post(path, {"reason": "改期"}, follow=True)
    assert "The meeting is cancelled." in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    assert 'id="action-schedule-meeting"' in response.content.decode()


def test_the_whistle_page_costs_the_same_queries_however_many_meetings_ratings_and_callbacks(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.whistle.lifecycle import close_all
    from whistle.services import meeting_cancel, meeting_schedule, whistle_callback, whistle_confirm, whistle_rate

    def build(meetings: int, ratings: list[str], callbacks: int) -> Whistle:
        whistle = routed(cast, user=cast.s01_head, grade="difficult")
        for _ in range(meetings):
            meeting = meeting_schedule(
                whistle=whistle, actor=cast.s01_staff, scheduled_at=whistle.created_at + timedelta(days=1), place="现场"
            )
            meeting_cancel(meeting=meeting, actor=cast.s01_staff, reason="改期")
        close_all(cast, whistle)
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)
        for code in ratings:
            whistle_rate(whistle=whistle, actor=cast.s01_staff, department=code, response=5, attitude=5, result=5)
        for _ in range(callbacks):
            whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="satisfied", solved=True)
        return whistle

    small, large = build(1, ["D13"], 1), build(3, ["D13", "D12", "E06"], 3)
    signed_in(client, cast.s01_staff)
    counts = []
    for whistle in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_of(whistle)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts

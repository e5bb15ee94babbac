"""The street side and joint meetings through the API: confirm, reopen, rate, callback, /meetings/."""

from datetime import datetime, timedelta

import pytest
import time_machine

from tests.whistle.lifecycle import MONDAY_10, SHANGHAI, closed, resolved, routed, snapshot
from tests.whistle.test_api import assert_error, post, token_client
from whistle.models import JointMeeting, Notification, Rating, Task

API = "/api/v1/whistles/"
MEETINGS = "/api/v1/meetings/"
AT = datetime(2026, 3, 3, 9, 30, tzinfo=SHANGHAI)


def test_the_street_confirms_through_the_api(cast):
    whistle = resolved(cast)

    response = post(token_client(cast.s01_deputy), f"{API}{whistle.number}/confirm/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "closed" and body["closed_at"] is not None
    assert body["events"][-1]["verb"] == "confirmed"


def test_confirm_refusals_answer_403_404_and_409_and_change_nothing(cast):
    whistle = resolved(cast)
    before = snapshot(whistle)

    assert_error(post(token_client(cast.s01_grid), f"{API}{whistle.number}/confirm/"), 403, "permission_denied")
    assert_error(post(token_client(cast.s02_staff), f"{API}{whistle.number}/confirm/"), 404, "not_found")
    assert_error(post(token_client(cast.d13_staff), f"{API}{whistle.number}/confirm/"), 403, "permission_denied")
    assert snapshot(whistle) == before
    other = routed(cast)
    assert_error(
        post(token_client(cast.s01_staff), f"{API}{other.number}/confirm/"),
        409,
        "conflict",
        text="only a resolved whistle is confirmed",
    )


def test_reopen_through_the_api_needs_a_reason(cast):
    whistle = resolved(cast)
    client = token_client(cast.s01_staff)
    before = snapshot(whistle)

    assert_error(post(client, f"{API}{whistle.number}/reopen/"), 400, "invalid", "reason", "Say why")
    assert_error(post(client, f"{API}{whistle.number}/reopen/", {"reason": 5}), 400, "invalid", "reason")
    assert snapshot(whistle) == before

    response = post(client, f"{API}{whistle.number}/reopen/", {"reason": "楼道仍有杂物"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["reopens"]) == ("routed", 1)
    assert {t["status"] for t in body["tasks"]} == {"pending"}
    assert_error(post(client, f"{API}{whistle.number}/reopen/", {"reason": "again"}), 409, "conflict")


def test_the_street_rates_a_department_through_the_api_once(cast):
    whistle = resolved(cast)
    client = token_client(cast.s01_head)
    body = {"department": "D12", "response": 5, "attitude": 5, "result": 4, "comment": "配合积极"}

    response = post(client, f"{API}{whistle.number}/rate/", body)

    assert response.status_code == 200, response.json()
    [rating] = response.json()["ratings"]
    assert rating["department"]["code"] == "D12"
    assert (rating["response"], rating["attitude"], rating["result"], rating["comment"]) == (5, 5, 4, "配合积极")
    assert rating["rated_by"] == "s01_head"
    assert_error(post(client, f"{API}{whistle.number}/rate/", body), 409, "already_rated", text="already rated")


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"response": 0}, "response", "from 1 to 5"),
        ({"attitude": "4"}, "attitude", "A whole number is required."),
        ({"result": 4.5}, "result", "A whole number is required."),
        ({"result": True}, "result", "A whole number is required."),
        ({"response": None}, "response", "from 1 to 5"),
        ({"department": "T01"}, "department", "did not report in"),
        ({"department": None}, "department", "Choose the department"),
        ({"comment": "x" * 2001}, "comment", "At most 2000 characters"),
    ],
)
def test_a_bad_rating_is_a_400_naming_the_field(cast, changes, field, text):
    whistle = resolved(cast)
    body = {"department": "D13", "response": 5, "attitude": 4, "result": 3, **changes}
    body = {name: value for name, value in body.items() if value is not None}

    assert_error(post(token_client(cast.s01_staff), f"{API}{whistle.number}/rate/", body), 400, "invalid", field, text)
    assert not Rating.objects.exists()


def test_the_hotline_records_a_callback_and_a_dissatisfied_citizen_reopens_the_whistle(cast):
    whistle = closed(cast, user=cast.hotline, source="hotline", caller_name="张女士", caller_phone="13800000000")
    client = token_client(cast.hotline)

    response = post(
        client, f"{API}{whistle.number}/callback/", {"satisfaction": "dissatisfied", "solved": False, "note": "没修好"}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["reopens"], body["escalated_at"]) == ("routed", 1, None)
    assert body["callbacks"] == [
        {
            "satisfaction": "dissatisfied",
            "solved": False,
            "note": "没修好",
            "recorded_by": "hotline",
            "time": body["callbacks"][0]["time"],
        }
    ]
    assert_error(
        post(client, f"{API}{whistle.number}/callback/", {"satisfaction": "satisfied", "solved": True}),
        409,
        "conflict",
        text="once the street has confirmed it",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"satisfaction": "fine", "solved": True}, "satisfaction"),
        ({"satisfaction": "satisfied"}, "solved"),
        ({"satisfaction": "satisfied", "solved": "true"}, "solved"),
        ({"satisfaction": "satisfied", "solved": 1}, "solved"),
        ({"solved": True}, "satisfaction"),
    ],
)
def test_a_bad_callback_is_a_400_naming_the_field(cast, body, field):
    whistle = closed(cast)
    before = snapshot(whistle)
    assert_error(post(token_client(cast.s01_staff), f"{API}{whistle.number}/callback/", body), 400, "invalid", field)
    assert snapshot(whistle) == before


def test_the_hotline_cannot_see_a_street_whistle_to_call_back(cast):
    whistle = closed(cast)
    assert_error(
        post(
            token_client(cast.hotline),
            f"{API}{whistle.number}/callback/",
            {"satisfaction": "satisfied", "solved": True},
        ),
        404,
        "not_found",
    )


# Meetings ------------------------------------------------------------------------------------


@pytest.fixture
def difficult(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        return routed(cast, user=cast.s01_head, grade="difficult")


def schedule(cast, difficult, **changes):
    body = {"whistle": difficult.number, "scheduled_at": "2026-03-03T09:30:00+08:00", "place": "街道办三楼", **changes}
    with time_machine.travel(MONDAY_10, tick=False):
        return post(token_client(cast.s01_staff), MEETINGS, body)


def test_the_street_schedules_a_meeting_and_the_departments_attend_through_the_api(cast, difficult):
    response = schedule(cast, difficult, agenda="清理分工")

    assert response.status_code == 201, response.json()
    meeting = response.json()
    assert (meeting["whistle"], meeting["status"], meeting["place"], meeting["agenda"]) == (
        difficult.number,
        "scheduled",
        "街道办三楼",
        "清理分工",
    )
    assert {a["department"]["code"]: a["status"] for a in meeting["attendance"]} == {
        "D13": "invited",
        "D12": "invited",
        "E06": "invited",
    }
    path = f"{MEETINGS}{meeting['id']}/"
    with time_machine.travel(AT + timedelta(minutes=5), tick=False):
        assert post(token_client(cast.d13_staff), f"{path}attend/").status_code == 200
    with time_machine.travel(AT + timedelta(minutes=30), tick=False):
        response = post(token_client(cast.d12_staff), f"{path}attend/")
        assert_error(post(token_client(cast.d12_staff), f"{path}attend/"), 409, "already_checked_in")
    assert {a["department"]["code"]: a["status"] for a in response.json()["attendance"]}["D12"] == "late"
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        response = post(token_client(cast.s01_head), f"{path}close/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "held"
    assert {a["department"]["code"]: a["status"] for a in response.json()["attendance"]} == {
        "D13": "present",
        "D12": "late",
        "E06": "absent",
    }
    detail = token_client(cast.s01_staff).get(f"{API}{difficult.number}/").json()
    assert detail["meetings"][0]["status"] == "held" and "whistle" not in detail["meetings"][0]


def test_meetings_are_listed_in_the_users_scope(cast, difficult):
    meeting_id = schedule(cast, difficult).json()["id"]

    for user, count in ((cast.s01_staff, 1), (cast.d13_staff, 1), (cast.supervisor, 1), (cast.s02_staff, 0)):
        body = token_client(user).get(MEETINGS).json()
        assert [m["id"] for m in body["results"]] == [meeting_id] * count, user
    assert token_client(cast.s01_staff).get(MEETINGS, {"status": "held"}).json()["results"] == []
    assert token_client(cast.t01_staff).get(MEETINGS).json()["results"] == []
    assert_error(token_client(cast.s02_staff).get(f"{MEETINGS}{meeting_id}/"), 404, "not_found")
    assert token_client(cast.d12_staff).get(f"{MEETINGS}{meeting_id}/").status_code == 200


def test_the_meeting_list_takes_a_fixed_number_of_queries(cast, difficult, django_assert_max_num_queries):
    schedule(cast, difficult)
    other = routed(cast, user=cast.s01_head, grade="difficult")
    schedule(cast, other, scheduled_at="2026-03-04T09:30:00+08:00")
    client = token_client(cast.s01_staff)

    # token + user, membership, count, meetings with whistles, attendance with departments
    with django_assert_max_num_queries(5):
        assert len(client.get(MEETINGS).json()["results"]) == 2


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"scheduled_at": "2026-03-03T09:30:00"}, "scheduled_at", "UTC offset"),
        ({"scheduled_at": "tomorrow"}, "scheduled_at", "ISO-8601"),
        ({"scheduled_at": "2026-03-01T09:30:00+08:00"}, "scheduled_at", "in the future"),
        ({"place": ""}, "place", "Say where"),
        ({"whistle": "S01-2026-999999"}, "whistle", "does not exist"),
        ({"whistle": ""}, "whistle", "Give the number of a whistle."),
    ],
)
def test_a_bad_meeting_is_a_400_naming_the_field(cast, difficult, changes, field, text):
    assert_error(schedule(cast, difficult, **changes), 400, "invalid", field, text)
    assert not JointMeeting.objects.exists()


def test_meeting_refusals_answer_403_404_and_409(cast, difficult):
    body = {"whistle": difficult.number, "scheduled_at": "2026-03-03T09:30:00+08:00", "place": "街道办"}
    with time_machine.travel(MONDAY_10, tick=False):
        assert_error(post(token_client(cast.s01_dispatcher), MEETINGS, body), 403, "permission_denied")
        assert_error(post(token_client(cast.s02_staff), MEETINGS, body), 400, "invalid", "whistle")
        ordinary = routed(cast)
        assert_error(
            post(token_client(cast.s01_staff), MEETINGS, {**body, "whistle": ordinary.number}), 409, "conflict"
        )
    meeting_id = schedule(cast, difficult).json()["id"]
    path = f"{MEETINGS}{meeting_id}/"
    assert_error(post(token_client(cast.t01_staff), f"{path}attend/"), 404, "not_found")
    assert_error(post(token_client(cast.s01_staff), f"{path}attend/"), 403, "permission_denied")
    assert_error(post(token_client(cast.d13_staff), f"{path}close/"), 403, "permission_denied")
    assert_error(post(token_client(cast.s01_staff), f"{MEETINGS}999999/close/"), 404, "not_found")
    with time_machine.travel(AT - timedelta(hours=1), tick=False):
        assert_error(post(token_client(cast.s01_staff), f"{path}close/"), 409, "conflict", text="after it started")
    assert_error(post(token_client(cast.s01_staff), f"{path}cancel/"), 400, "invalid", "reason")
    response = post(token_client(cast.s01_staff), f"{path}cancel/", {"reason": "改期"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert_error(post(token_client(cast.d13_staff), f"{path}attend/"), 409, "conflict")
    assert Notification.objects.filter(verb="meeting_scheduled").count() == 3
    assert Task.objects.filter(whistle=difficult, status="pending").count() == 3


def test_the_schema_describes_the_new_endpoints(cast):
    schema = token_client(cast.s01_staff).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/whistles/{number}/confirm/",
        "/api/v1/whistles/{number}/reopen/",
        "/api/v1/whistles/{number}/rate/",
        "/api/v1/whistles/{number}/callback/",
        "/api/v1/meetings/",
        "/api/v1/meetings/{id}/attend/",
        "/api/v1/meetings/{id}/close/",
        "/api/v1/meetings/{id}/cancel/",
    ):
        assert path in paths, path

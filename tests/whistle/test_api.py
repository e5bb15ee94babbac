"""The whistle API (DESIGN.md, "API contract (v1)"): every answer, and every error in its one shape."""

import json
import re

import pytest
import time_machine
import yaml
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from config.api import exception_handler
from tests.live_worker import broker_unreachable
from whistle.models import Event, Task, Whistle
from whistle.services import whistle_route, whistle_submit

API = "/api/v1/whistles/"
NOW = "2026-03-02 10:00 +08:00"  # a Monday
BODY = {
    "title": "楼道堆物",
    "description": "3号楼楼道堆满杂物，堵塞消防通道。",
    "category": "ENV-COMPOUND",
    "lon": 115.975,
    "lat": 40.465,
}


def token_client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def session_client(user, **options) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", **options)
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(path, data if data is not None else {}, format="json")


def raise_whistle(user, **fields) -> Whistle:
    return whistle_submit(reporter=user, **{**BODY, **fields}).whistle


def routed(user, **fields) -> Whistle:
    whistle = raise_whistle(user, **fields)
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def assert_error(response, status, code, field=None, text=""):
    """The one error shape, with the status and code, and (when given) the field and a part of its message."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    if field is not None:
        assert field in body["fields"], body
        assert any(text in message for message in body["fields"][field]), body
    elif text:
        assert text in body["message"], body
    return body


# Submitting --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_street_official_raises_a_whistle_and_gets_it_back_with_201(cast):
    response = post(session_client(cast.s01_staff), API, BODY)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "S01-2026-000001"
    assert (body["status"], body["grade"], body["source"], body["mode"]) == (
        "submitted",
        "ordinary",
        "street",
        "regular",
    )
    assert body["street"] == {"code": "S01", "name": "百泉街道"}
    assert body["community"] == {"code": "S01C01", "name": "百泉第1社区"}
    assert body["grid"]["code"] == "S01C01G01"
    assert body["category"] == {"code": "ENV-COMPOUND", "name": "老旧小区环境"}
    assert (body["lon"], body["lat"], body["reporter"]) == (115.975, 40.465, "s01_staff")
    assert body["created_at"] == "2026-03-02T10:00:00+08:00"
    assert (body["created"], body["enqueued"], body["notice"]) == (True, True, "")
    assert [event["verb"] for event in body["events"]] == ["submitted"]
    assert Whistle.objects.get().number == body["number"]


def test_the_hotline_submits_with_a_token_and_a_repeat_answers_200_with_the_same_number(cast):
    client = token_client(cast.hotline)
    body = {**BODY, "external_id": "12345-0001", "caller_name": "张女士", "caller_phone": "138 0000 0000"}

    first = post(client, API, body)
    again = post(client, API, body)

    assert first.status_code == 201 and again.status_code == 200, (first.json(), again.json())
    assert first.json()["number"] == again.json()["number"]
    assert (first.json()["source"], first.json()["external_id"]) == ("hotline", "12345-0001")
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert Whistle.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_the_queue_unreachable_the_whistle_is_stored_and_the_client_told_it_is_queued(cast):
    with broker_unreachable():
        response = post(token_client(cast.s01_staff), API, BODY)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["enqueued"], body["status"]) == (True, False, "submitted")
    assert "will be routed as soon as the queue is back" in body["notice"]
    assert Whistle.objects.get().number == body["number"]


def test_unknown_fields_are_ignored(cast):
    response = post(token_client(cast.s01_staff), API, {**BODY, "colour": "red", "id": 99, "status": "closed"})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "submitted"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"category": "NOPE"}, "category", "Unknown category NOPE."),
        ({"category": ""}, "category", "A category is required."),
        ({"lon": 116.9, "lat": 40.9}, "grid", "lies on no grid of the district"),
        ({"lon": None, "lat": None}, "grid", "Mark the place on the map or choose a grid."),
        ({"grid": "S09C01G01"}, "grid", "Unknown grid S09C01G01."),
        ({"description": "x" * 4001}, "description", "at most 4000 characters (it has 4001)"),
        ({"title": "长" * 100_000}, "title", "at most 200 characters (it has 100000)"),
        ({"grade": "difficult"}, "grade", "may not raise a difficult whistle"),
        ({"grade": "urgent"}, "grade", "Grade must be one of"),
        ({"source": "hotline"}, "source", "may not raise whistles from the source 12345 hotline"),
        ({"lon": 181.0}, "lon", "Must be between -180 and 180."),
        ({"lat": -91}, "lat", "Must be between -90 and 90."),
        ({"lat": None}, "lat", "Give both longitude and latitude, or neither."),
        ({"lon": "115.975"}, "lon", "A number is required."),
        ({"lon": "abc"}, "lon", "A number is required."),
        ({"lon": True}, "lon", "A number is required."),
        ({"lon": [115.975]}, "lon", "A number is required."),
        ({"lon": 10**400}, "lon", "too large"),
        ({"lat": 1e308}, "lat", "Must be between -90 and 90."),
        ({"title": 12}, "title", "A string is required."),
        ({"category": {"code": "ENV-COMPOUND"}}, "category", "A string is required."),
        ({"title": "楼道\x00堆物"}, "title", "Null characters are not allowed."),
        ({"caller_phone": "call me"}, "caller_phone", "may only have digits"),
        ({"external_id": "x" * 65}, "external_id", "at most 64 characters"),
        ({"mode": "quick"}, "appointed_checkin_at", "needs the appointed check-in time"),
        ({"mode": "quick", "appointed_checkin_at": "tomorrow at ten"}, "appointed_checkin_at", "ISO-8601"),
        ({"mode": "quick", "appointed_checkin_at": 1772416800}, "appointed_checkin_at", "ISO-8601"),
        ({"mode": "quick", "appointed_checkin_at": "2026-02-30T10:00:00+08:00"}, "appointed_checkin_at", "ISO-8601"),
        ({"mode": "quick", "appointed_checkin_at": "9999-12-31T23:59:59-14:00"}, "appointed_checkin_at", "ISO-8601"),
        ({"mode": "quick", "appointed_checkin_at": "2099-03-02T14:00:00"}, "appointed_checkin_at", "UTC offset"),
        ({"mode": "quick", "appointed_checkin_at": "2020-03-02T14:00:00+08:00"}, "appointed_checkin_at", "future"),
        ({"lon": 115.955, "lat": 40.445}, "lon", "lies in 香水园街道, not in your street"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_the_rule_and_saves_nothing(cast, fields, field, message):
    response = post(token_client(cast.s01_staff), API, {**BODY, **fields})

    assert_error(response, 400, "invalid", field, message)
    assert Whistle.objects.count() == 0 and Event.objects.count() == 0


def test_every_broken_rule_is_reported_at_once(cast):
    response = post(token_client(cast.s01_staff), API, {**BODY, "title": "", "category": "NOPE", "lon": 500.0})

    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"title", "category", "lon"}


@pytest.mark.parametrize(
    "raw, status, code, text",
    [
        ('{"title": "楼道堆物", ', 400, "parse_error", "JSON parse error"),
        ("not json at all", 400, "parse_error", "JSON parse error"),
        ('{"title": "x", "lon": NaN, "lat": 40.4}', 400, "parse_error", "NaN"),
        ('{"title": "x", "lon": Infinity, "lat": 40.4}', 400, "parse_error", "Infinity"),
        ('[{"title": "楼道堆物"}]', 400, "invalid", "Expected a dictionary, but got list."),
        ('"a string"', 400, "invalid", "Expected a dictionary, but got str."),
        ("null", 400, "invalid", "No data provided"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400_in_the_error_shape(cast, raw, status, code, text):
    response = token_client(cast.s01_staff).post(API, raw, content_type="application/json")

    assert_error(response, status, code, text=text)
    assert Whistle.objects.count() == 0


def test_a_huge_number_literal_is_refused_by_its_field(cast):
    raw = json.dumps(BODY).replace("115.975", "1e999")  # parses to infinity

    response = token_client(cast.s01_staff).post(API, raw, content_type="application/json")

    assert_error(response, 400, "invalid", "lon", "A number is required.")


def test_a_body_over_the_upload_limit_is_a_413(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    raw = json.dumps({**BODY, "description": "x" * 20_000})

    response = token_client(cast.s01_staff).post(API, raw, content_type="application/json")

    assert_error(response, 413, "too_large", text="larger than 10000 bytes")
    assert Whistle.objects.count() == 0


def test_an_empty_body_names_every_missing_field(cast):
    response = token_client(cast.s01_staff).post(API, "", content_type="application/json")

    body = assert_error(response, 400, "invalid")
    assert {"title", "description", "category", "grid"} <= set(body["fields"])


def test_a_form_encoded_body_is_a_415(cast):
    response = token_client(cast.s01_staff).post(API, {"title": "x"})  # multipart

    assert_error(response, 415, "unsupported_media_type", text="Unsupported media type")


def test_a_role_that_cannot_raise_whistles_is_a_403(cast):
    for user in (cast.d13_staff, cast.supervisor, cast.outsider):
        assert_error(post(token_client(user), API, BODY), 403, "permission_denied", text="cannot raise whistles")


# Authentication -----------------------------------------------------------------------------


def test_without_credentials_every_endpoint_is_a_401_asking_for_a_token(cast):
    whistle = raise_whistle(cast.s01_staff)
    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    for response in (
        anonymous.get(API),
        post(anonymous, API, BODY),
        anonymous.get(f"{API}{whistle.number}/"),
        post(anonymous, f"{API}{whistle.number}/merge/", {"into": whistle.number}),
    ):
        assert_error(response, 401, "not_authenticated", text="credentials were not provided")
        assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_a_401(cast):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert_error(client.get(API), 401, "authentication_failed", text="Invalid token")


def test_a_session_post_needs_the_csrf_token(cast):
    client = session_client(cast.s01_staff, enforce_csrf_checks=True)

    assert_error(post(client, API, BODY), 403, "permission_denied", text="CSRF")
    assert client.get(API).status_code == 200
    assert Whistle.objects.count() == 0


# Reading -------------------------------------------------------------------------------------


def test_a_whistle_of_another_street_is_neither_listed_nor_found(cast):
    whistle = raise_whistle(cast.s01_staff)
    s02 = token_client(cast.s02_staff)

    assert s02.get(API).json()["results"] == []
    assert_error(s02.get(f"{API}{whistle.number}/"), 404, "not_found", text=whistle.number)
    assert [w["number"] for w in token_client(cast.s01_staff).get(API).json()["results"]] == [whistle.number]


def test_a_department_sees_only_the_whistles_it_was_summoned_to(cast):
    summoned = routed(cast.s01_staff)
    raise_whistle(cast.s01_staff, category="ORDER-PUBLIC")
    d13 = token_client(cast.d13_staff)

    assert [w["number"] for w in d13.get(API).json()["results"]] == [summoned.number]
    assert d13.get(f"{API}{summoned.number}/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_detail_has_tasks_routing_explanation_and_events(cast):
    whistle = routed(cast.s01_staff)

    response = token_client(cast.s01_staff).get(f"{API}{whistle.number}/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["routed_at"]) == ("routed", "2026-03-02T10:00:00+08:00")
    tasks = {task["department"]["code"]: task for task in body["tasks"]}
    assert {code: task["role"] for code, task in tasks.items()} == {
        "D13": "lead",
        "D12": "co_operating",
        "E06": "co_operating",
    }
    lead = tasks["D13"]
    assert lead["department"]["name"] == "区城市管理委员会"
    assert lead["status"] == "pending" and isinstance(lead["id"], int)
    assert (lead["acknowledge_due_at"], lead["checkin_due_at"], lead["resolve_due_at"]) == (
        "2026-03-02T12:00:00+08:00",
        "2026-03-03T10:00:00+08:00",
        "2026-03-11T10:00:00+08:00",
    )
    assert [(entry["department"], entry["scope"]) for entry in body["routing"]] == [
        ("D13", "district"),
        ("D12", "district"),
        ("E06", "district"),
    ]
    assert [(e["verb"], e["actor"], e["system"]) for e in body["events"]] == [
        ("submitted", "s01_staff", False),
        ("routed", "router", True),
    ]
    assert body["events"][0]["time"] == "2026-03-02T10:00:00+08:00"
    assert (body["merged_into"], body["duplicates"]) == (None, [])


def test_the_caller_is_masked_for_street_staff_and_shown_to_the_hotline_and_the_dispatcher(cast):
    whistle = raise_whistle(cast.hotline, external_id="12345-0002", caller_name="张女士", caller_phone="138 0000 0000")
    path = f"{API}{whistle.number}/"

    masked = token_client(cast.s01_staff).get(path).json()
    assert (masked["caller_name"], masked["caller_phone"]) == ("张**", "138****0000")
    for user in (cast.hotline, cast.s01_dispatcher):
        shown = token_client(user).get(path).json()
        assert (shown["caller_name"], shown["caller_phone"]) == ("张女士", "138 0000 0000")


def test_a_merged_duplicates_caller_does_not_leak_through_the_primarys_events(cast):
    primary = raise_whistle(cast.s01_staff)
    duplicate = raise_whistle(cast.hotline, external_id="12345-0003", caller_name="李先生", caller_phone="13912345678")
    post(token_client(cast.s01_staff), f"{API}{duplicate.number}/merge/", {"into": primary.number})

    text = token_client(cast.s01_staff).get(f"{API}{primary.number}/").content.decode()

    assert "13912345678" not in text and "李先生" not in text


def test_the_list_filters_by_status_street_category_grade_source_and_time(cast):
    with time_machine.travel("2026-03-02 09:00 +08:00", tick=False):
        early = routed(cast.s01_staff)
    with time_machine.travel("2026-03-03 09:00 +08:00", tick=False):
        order = raise_whistle(cast.s01_staff, category="ORDER-PUBLIC", grade="priority")
        hotline = raise_whistle(cast.hotline, external_id="12345-0004")
    client = session_client(cast.s01_head)

    def numbers(**params):
        response = client.get(API, params)
        assert response.status_code == 200, response.json()
        return {w["number"] for w in response.json()["results"]}

    assert numbers() == {early.number, order.number, hotline.number}
    assert numbers(status="routed") == {early.number}
    assert numbers(street="S01", category="ORDER-PUBLIC") == {order.number}
    assert numbers(street="S02") == set()
    assert numbers(grade="priority") == {order.number}
    assert numbers(source="hotline") == {hotline.number}
    assert numbers(created_after="2026-03-03T00:00:00+08:00") == {order.number, hotline.number}
    assert numbers(created_before="2026-03-03T00:00:00+08:00") == {early.number}
    assert numbers(created_after="2026-03-02T00:00:00+08:00", created_before="2026-03-02T12:00:00+08:00") == {
        early.number
    }


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "lost"}, "status"),
        ({"grade": "urgent"}, "grade"),
        ({"source": "email"}, "source"),
        ({"created_after": "last week"}, "created_after"),
        ({"created_before": "9999-12-31T23:59:59-14:00"}, "created_before"),
        ({"created_after": "0001-01-01T00:00:00+14:00"}, "created_after"),
        ({"street": "S01\x00"}, "street"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(cast, params, field):
    assert_error(token_client(cast.s01_staff).get(API, params), 400, "invalid", field)


def test_the_list_is_paginated(cast):
    for _ in range(3):
        raise_whistle(cast.s01_staff)
    client = token_client(cast.s01_staff)

    page = client.get(API, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["previous"]) == (3, 2, None)
    assert "page=2" in page["next"]
    last = client.get(API, {"page_size": 2, "page": 2}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert page["results"][0]["number"] == "S01-2026-000003"  # newest first
    assert_error(client.get(API, {"page": 9}), 404, "not_found", text="Invalid page")


def test_the_list_takes_a_fixed_number_of_queries_however_many_whistles(cast, django_assert_max_num_queries):
    client = token_client(cast.s01_staff)
    routed(cast.s01_staff)
    # token + user, membership, count, page
    with django_assert_max_num_queries(4):
        assert len(client.get(API).json()["results"]) == 1
    for _ in range(12):
        routed(cast.s01_staff)
    merged = raise_whistle(cast.s01_staff)
    post(client, f"{API}{merged.number}/merge/", {"into": "S01-2026-000001"})

    with django_assert_max_num_queries(4):
        body = client.get(API).json()

    assert len(body["results"]) == 14
    assert body["results"][0]["merged_into"] == "S01-2026-000001"


def test_the_detail_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    whistle = routed(cast.s01_staff)
    client = token_client(cast.s01_staff)

    # token + user, membership, whistle, tasks, events, duplicates, ratings, callbacks, meetings, attendance
    with django_assert_max_num_queries(10):
        assert client.get(f"{API}{whistle.number}/").status_code == 200


# Acting ---------------------------------------------------------------------------------------


def test_the_approval_chain_runs_through_the_api(cast):
    draft = raise_whistle(cast.s01_staff, source="party_office")
    path = f"{API}{draft.number}/approve/"

    for user, status in (
        (cast.s01_staff, "awaiting_signature"),
        (cast.s01_deputy, "awaiting_approval"),
        (cast.s01_head, "approved"),
        (cast.s01_party, "submitted"),
    ):
        response = post(token_client(user), path, {"decision": "approve"})
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    assert response.json()["submitted_at"] is not None


def test_a_rejection_needs_a_reason_and_returns_the_draft(cast):
    draft = raise_whistle(cast.s01_staff, source="party_office")
    path = f"{API}{draft.number}/approve/"
    post(token_client(cast.s01_staff), path, {"decision": "approve"})
    deputy = token_client(cast.s01_deputy)

    assert_error(post(deputy, path, {"decision": "reject"}), 400, "invalid", "reason", "Say why")
    response = post(deputy, path, {"decision": "reject", "reason": "材料不全"})

    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert response.json()["events"][-1]["reason"] == "材料不全"


def test_approval_errors(cast):
    draft = raise_whistle(cast.s01_staff, source="party_office")
    submitted = raise_whistle(cast.s01_staff)
    path = f"{API}{draft.number}/approve/"
    post(token_client(cast.s01_staff), path, {"decision": "approve"})

    assert_error(post(token_client(cast.s01_deputy), path, {"decision": "maybe"}), 400, "invalid", "decision")
    assert_error(post(token_client(cast.s01_deputy), path, {"decision": 1}), 400, "invalid", "decision")
    assert_error(post(token_client(cast.s01_staff), path, {"decision": "approve"}), 403, "permission_denied")
    assert_error(post(token_client(cast.s02_deputy), path, {"decision": "approve"}), 404, "not_found")
    assert_error(
        post(token_client(cast.s01_head), f"{API}{submitted.number}/approve/", {"decision": "approve"}),
        409,
        "conflict",
        text="not waiting for approval",
    )


def test_the_dispatcher_routes_a_waiting_whistle_by_hand(cast):
    whistle = routed(cast.s01_staff, category="MISC-OTHER")
    assert whistle.status == Whistle.Status.AWAITING_DISPATCH
    choice = [{"code": "D13", "role": "lead"}, {"code": "D12", "role": "co_operating"}]

    response = post(
        token_client(cast.s01_dispatcher), f"{API}{whistle.number}/dispatch/", {"departments": choice, "note": "辖区"}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "routed"
    assert {t["department"]["code"]: t["role"] for t in body["tasks"]} == {"D13": "lead", "D12": "co_operating"}
    assert [entry["scope"] for entry in body["routing"]] == ["none", "manual", "manual"]
    assert body["events"][-1]["verb"] == "dispatched" and body["events"][-1]["reason"] == "辖区"


def test_dispatch_by_a_role_that_may_not_is_a_403_and_of_a_routed_whistle_a_409(cast):
    waiting = routed(cast.s01_staff, category="MISC-OTHER")
    done = routed(cast.s01_staff)
    choice = {"departments": [{"code": "D13", "role": "lead"}]}

    assert_error(
        post(token_client(cast.s01_staff), f"{API}{waiting.number}/dispatch/", choice), 403, "permission_denied"
    )
    assert_error(post(token_client(cast.s02_dispatcher), f"{API}{waiting.number}/dispatch/", choice), 404, "not_found")
    assert_error(
        post(token_client(cast.s01_dispatcher), f"{API}{done.number}/dispatch/", choice),
        409,
        "conflict",
        text="only a whistle waiting for dispatch",
    )
    assert Task.objects.filter(whistle=waiting).count() == 0


@pytest.mark.parametrize(
    "departments, field, message",
    [
        ([], "departments", "Choose at least one department."),
        ([{"code": "X99", "role": "lead"}], "departments", "Unknown department X99."),
        ([{"code": "D13", "role": "boss"}], "departments", "Role must be lead or co_operating"),
        ("D13", "departments", "Expected a list of items"),
        ([{"code": 13, "role": "lead"}], "departments.0.code", "A string is required."),
        ([{"code": "D13", "role": "lead"}, {"code": "D12", "role": ["lead"]}], "departments.1.role", "string"),
        ([{"code": "D13", "role": "lead"}, 7], "departments.1", "Expected a dictionary"),
    ],
)
def test_bad_dispatch_choices_are_a_400_with_the_nested_field_named(cast, departments, field, message):
    whistle = routed(cast.s01_staff, category="MISC-OTHER")

    response = post(token_client(cast.s01_dispatcher), f"{API}{whistle.number}/dispatch/", {"departments": departments})

    assert_error(response, 400, "invalid", field, message)


def test_a_duplicate_is_merged_into_its_primary(cast):
    primary = raise_whistle(cast.s01_staff)
    duplicate = raise_whistle(cast.s01_grid)
    client = token_client(cast.s01_staff)

    response = post(client, f"{API}{duplicate.number}/merge/", {"into": primary.number})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["merged_into"]) == ("merged", primary.number)
    assert client.get(f"{API}{primary.number}/").json()["duplicates"] == [duplicate.number]


@pytest.mark.parametrize(
    "into, message",
    [
        ("S01-2026-999999", "does not exist or is not visible to you"),
        ("S02-2026-000001", "does not exist or is not visible to you"),  # exists, in another street
        ("", "Give the number of a whistle."),
        ("self", "cannot be a duplicate of itself"),
    ],
)
def test_merging_into_a_whistle_that_is_missing_or_invisible_is_a_400_on_into(cast, into, message):
    raise_whistle(cast.s02_staff, lon=115.955, lat=40.445)
    duplicate = raise_whistle(cast.s01_staff)
    into = duplicate.number if into == "self" else into

    response = post(token_client(cast.s01_staff), f"{API}{duplicate.number}/merge/", {"into": into})

    assert_error(response, 400, "invalid", "into", message)
    duplicate.refresh_from_db()
    assert duplicate.status == Whistle.Status.SUBMITTED


def test_merge_by_a_role_that_may_not_is_a_403_and_of_a_routed_whistle_a_409(cast):
    primary = raise_whistle(cast.s01_staff)
    done = routed(cast.s01_staff)

    assert_error(
        post(token_client(cast.s01_grid), f"{API}{primary.number}/merge/", {"into": done.number}),
        403,
        "permission_denied",
    )
    assert_error(
        post(token_client(cast.s01_staff), f"{API}{done.number}/merge/", {"into": primary.number}), 409, "conflict"
    )


# Error shape for everything else ------------------------------------------------------------


def test_a_method_the_endpoint_lacks_is_a_405(cast):
    whistle = raise_whistle(cast.s01_staff)
    client = token_client(cast.s01_staff)

    assert_error(client.delete(f"{API}{whistle.number}/"), 405, "method_not_allowed", text="DELETE")
    assert_error(client.get(f"{API}{whistle.number}/approve/"), 405, "method_not_allowed", text="GET")


def test_options_describe_the_input_of_each_endpoint(cast):
    client = token_client(cast.s01_staff)

    submit = client.options(API).json()["actions"]["POST"]
    merge = client.options(f"{API}S01-2026-000001/merge/").json()["actions"]["POST"]

    assert {"title", "lon", "appointed_checkin_at"} <= set(submit) and "tasks" not in submit
    assert set(merge) == {"into"}


def test_unknown_addresses_under_api_are_404s_in_the_error_shape(cast):
    client = token_client(cast.s01_staff)

    assert_error(client.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error(client.get(f"{API}S01%00/"), 404, "not_found")
    assert_error(client.get(f"{API}{'9' * 200}/"), 404, "not_found")
    assert_error(post(client, API.rstrip("/"), BODY), 404, "not_found", text="ends with a slash")


def test_too_many_requests_keep_their_retry_after_header():
    response = exception_handler(Throttled(wait=30), {})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.data["code"] == "throttled" and "30 seconds" in response.data["message"]


# The schema -----------------------------------------------------------------------------------


def test_the_schema_lists_the_whistle_endpoints_in_yaml_and_json(db):
    client = APIClient()

    as_yaml = client.get("/api/schema/")
    as_json = client.get("/api/schema/", {"format": "json"})

    assert as_yaml.status_code == 200 and as_json.status_code == 200
    for schema in (yaml.safe_load(as_yaml.content), json.loads(as_json.content)):
        assert schema["openapi"].startswith("3.")
        assert {
            "/api/v1/whistles/",
            "/api/v1/whistles/{number}/",
            "/api/v1/whistles/{number}/approve/",
            "/api/v1/whistles/{number}/dispatch/",
            "/api/v1/whistles/{number}/merge/",
        } <= set(schema["paths"])
        create = schema["paths"]["/api/v1/whistles/"]["post"]
        assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("WhistleSubmitRequest")
        assert {"200", "201", "400", "401", "403"} <= set(create["responses"])
        filters = {p["name"] for p in schema["paths"]["/api/v1/whistles/"]["get"]["parameters"]}
        assert {"status", "street", "category", "grade", "source", "created_after", "created_before", "page"} <= filters


def test_the_docs_page_loads_its_scripts_locally(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    # Every script and stylesheet from this site: no other host (the page's CSRF token may spell anything).
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and not [source for source in sources if "//" in source]


# A service gap the API cannot close on its own ----------------------------------------------


def test_an_external_id_used_by_another_street_is_refused_not_answered_with_its_whistle(cast):
    """whistle_submit looks up repeats by (source, external_id) before anything else, across the
    district: s02's whistle is silently not stored and s01's is returned as if it were theirs. The
    API does not render a whistle outside the user's scope (so nothing leaks: it answers 404), but
    the right answer is the service refusing the id (400 on external_id) or keeping repeats per reporter's unit.
    """
    raise_whistle(cast.s01_staff, external_id="WO-7")

    response = post(token_client(cast.s02_staff), API, {**BODY, "lon": 115.955, "lat": 40.445, "external_id": "WO-7"})

    assert "百泉" not in response.content.decode()
    assert_error(response, 400, "invalid", "external_id")


# Never a 500 ----------------------------------------------------------------------------------

ODD_VALUES = [
    None,
    True,
    -1,
    10**30,
    -1e308,
    "",
    "x" * 5000,
    [],
    {"a": 1},
    "\x00",
    "\ud800",
    "NaN",
    "9999-12-31T23:59+14:00",
]
SUBMIT_FIELDS = [
    "title",
    "description",
    "category",
    "grade",
    "source",
    "mode",
    "lon",
    "lat",
    "address",
    "grid",
    "external_id",
    "caller_name",
    "caller_phone",
    "appointed_checkin_at",
]


def raw_post(client, path, data):
    # json.dumps escapes lone surrogates, which the test client's own encoder cannot send.
    return client.post(path, json.dumps(data), content_type="application/json")


def test_odd_values_in_any_field_are_answered_never_with_a_500(cast):
    hotline, staff = token_client(cast.hotline), token_client(cast.s01_staff)
    waiting = routed(cast.s01_staff, category="MISC-OTHER")
    dispatcher = token_client(cast.s01_dispatcher)
    answers = []
    for value in ODD_VALUES:
        for field in SUBMIT_FIELDS:
            answers.append((field, value, raw_post(hotline, API, {**BODY, "mode": "quick", field: value})))
        for action, body in (
            ("dispatch", {"departments": value, "note": value}),
            ("dispatch", {"departments": [{"code": value, "role": value}]}),
            ("approve", {"decision": value, "reason": value}),
            ("merge", {"into": value}),
        ):
            answers.append((action, value, raw_post(dispatcher, f"{API}{waiting.number}/{action}/", body)))
        if isinstance(value, str) and value != "\ud800":
            for name in ("status", "street", "category", "created_after", "created_before", "page", "page_size"):
                answers.append((name, value, staff.get(API, {name: value})))

    assert [(name, value, r.status_code) for name, value, r in answers if r.status_code >= 500] == []
    assert all(set(r.json()) == {"code", "message", "fields"} for _, _, r in answers if r.status_code >= 400)

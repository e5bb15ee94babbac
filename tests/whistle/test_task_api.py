"""The task API: list and filters, every action, and every refusal in the one error shape."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.factories import submit_whistle
from tests.whistle.test_api import assert_error, session_client, token_client
from whistle.models import Attachment, Event, Extension, Feedback, Task, Whistle
from whistle.services import task_check_in, task_request_extension, whistle_route

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
API = "/api/v1/tasks/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def monday_morning():
    with time_machine.travel(MONDAY_10, tick=False):
        yield


@pytest.fixture
def whistle(cast):
    whistle = submit_whistle(cast.s01_staff).whistle
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def task_of(whistle, code) -> Task:
    return Task.objects.select_related("whistle", "department").get(whistle=whistle, department__code=code)


def post(client, path, data=None):
    return client.post(path, data if data is not None else {}, format="json")


def snapshot():
    return [list(m.objects.order_by("pk").values()) for m in (Task, Whistle, Event, Extension, Feedback, Attachment)]


# Reading ---------------------------------------------------------------------------------------


def test_a_department_lists_its_tasks_with_stage_and_light(cast, whistle):
    response = token_client(cast.d13_staff).get(API)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["whistle"]["number"] == whistle.number and row["department"]["code"] == "D13"
    assert row["stage"] == "acknowledge" and row["light"] == "green"
    assert row["stage_due_at"] == "2026-03-02T12:00:00+08:00"


def test_the_list_filters_by_light_in_the_database(cast, whistle):
    task_check_in(task=task_of(whistle, "D12"), actor=cast.d12_staff)
    client = token_client(cast.supervisor)

    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        red = client.get(API, {"light": "red"}).json()
        green = client.get(API, {"light": "green"}).json()
        d12 = client.get(API, {"department": "D12", "street": "S01", "category": "ENV-COMPOUND"}).json()

    assert sorted(t["department"]["code"] for t in red["results"]) == ["D13", "E06"]
    assert [t["department"]["code"] for t in green["results"]] == ["D12"]
    assert [t["department"]["code"] for t in d12["results"]] == ["D12"]
    assert_error(client.get(API, {"light": "purple"}), 400, "invalid", "light")


def test_the_list_is_paginated_and_its_query_count_does_not_grow(cast, django_assert_max_num_queries):
    for _ in range(12):
        whistle_route(whistle_id=submit_whistle(cast.s01_staff).whistle.pk)
    client = session_client(cast.d13_staff)

    # session, user with membership, the user's task grants, count, page
    with django_assert_max_num_queries(5):
        body = client.get(API, {"page_size": 5}).json()

    assert body["count"] == 12 and len(body["results"]) == 5 and body["next"]


def test_a_task_is_invisible_outside_the_scope(cast, whistle):
    d13 = task_of(whistle, "D13")

    assert token_client(cast.d13_staff).get(f"{API}{d13.pk}/").status_code == 200
    assert token_client(cast.s01_staff).get(f"{API}{d13.pk}/").status_code == 200
    for user in (cast.d12_staff, cast.s02_staff, cast.hotline, cast.outsider):
        assert_error(token_client(user).get(f"{API}{d13.pk}/"), 404, "not_found")
    assert_error(token_client(cast.d13_staff).get(f"{API}abc/"), 404, "not_found")


# Acting ----------------------------------------------------------------------------------------


def test_a_department_acknowledges_checks_in_notes_progress_and_closes_through_the_api(cast, whistle):
    d12 = task_of(whistle, "D12")
    client = session_client(cast.d12_staff)

    assert post(client, f"{API}{d12.pk}/acknowledge/").json()["status"] == "acknowledged"
    body = post(client, f"{API}{d12.pk}/check-in/", {"lon": 115.975, "lat": 40.465, "note": "已到场"}).json()
    assert body["status"] == "checked_in" and body["checkin_lon"] == 115.975 and body["stage"] == "resolve"
    body = post(client, f"{API}{d12.pk}/progress/", {"note": "正在清理"}).json()
    assert body["events"][-1]["verb"] == "progress"

    response = client.post(
        f"{API}{d12.pk}/close/",
        {"actions": "已清理", "result": "solved", "files": [SimpleUploadedFile("现场.png", PNG)]},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "closed" and body["closed_on_time"] is True and body["light"] == ""
    attachment = body["feedback"][0]["attachments"][0]
    assert attachment["name"] == "现场.png" and attachment["content_type"] == "image/png"
    assert client.get(attachment["url"]).status_code == 200
    download = token_client(cast.d12_staff).get(attachment["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert_error(token_client(cast.d13_staff).get(attachment["download"]), 404, "not_found")
    assert_error(token_client(cast.s02_staff).get(attachment["download"]), 404, "not_found")


def test_closing_as_json_without_files_works_too(cast, whistle):
    d12 = task_of(whistle, "D12")
    task_check_in(task=d12, actor=cast.d12_staff)

    body = post(session_client(cast.d12_staff), f"{API}{d12.pk}/close/", {"actions": "已清理", "result": "solved"})

    assert body.json()["status"] == "closed"


@pytest.mark.parametrize(
    "action, data, field",
    [
        ("check-in", {"lon": "116", "lat": 40.0}, "lon"),
        ("check-in", {"lon": 116.0}, "lat"),
        ("progress", {"note": ""}, "note"),
        ("return", {"reason": "不归我们管"}, "reason_code"),
        ("return", {"reason_code": "not_ours"}, "reason"),
        ("extension", {"until": "2026-03-01T10:00:00+08:00", "reason": "需要时间"}, "until"),
        ("extension", {"until": "next week", "reason": "需要时间"}, "until"),
        ("extension", {"until": "2026-03-20T10:00:00+08:00"}, "reason"),
        ("close", {"actions": "", "result": "solved"}, "actions"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(cast, whistle, action, data, field):
    d13 = task_of(whistle, "D13")
    if action == "close":
        task_check_in(task=d13, actor=cast.d13_staff)
    before = snapshot()

    response = post(token_client(cast.d13_staff), f"{API}{d13.pk}/{action}/", data)

    assert_error(response, 400, "invalid", field)
    assert snapshot() == before


def test_a_wrong_type_of_file_is_a_400_and_stores_nothing(cast, whistle):
    d13 = task_of(whistle, "D13")
    task_check_in(task=d13, actor=cast.d13_staff)
    before = snapshot()

    response = session_client(cast.d13_staff).post(
        f"{API}{d13.pk}/close/",
        {"actions": "已清理", "result": "solved", "files": [SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image")]},
        format="multipart",
    )

    assert_error(response, 400, "invalid", "files", "not a JPEG, PNG or WebP photo or a PDF")
    assert snapshot() == before


def test_another_department_is_refused_with_403_and_a_stranger_with_404(cast, whistle):
    d13 = task_of(whistle, "D13")
    before = snapshot()

    # A street official sees the task but does not act on it; D12 does not see D13's task at all.
    assert_error(post(token_client(cast.s01_staff), f"{API}{d13.pk}/acknowledge/"), 403, "permission_denied")
    assert_error(post(token_client(cast.d12_staff), f"{API}{d13.pk}/acknowledge/"), 404, "not_found")
    assert_error(post(token_client(cast.s02_staff), f"{API}{d13.pk}/close/", {}), 404, "not_found")
    assert snapshot() == before


def test_an_action_the_state_does_not_allow_is_a_409(cast, whistle):
    d13 = task_of(whistle, "D13")
    client = token_client(cast.d13_staff)
    post(client, f"{API}{d13.pk}/acknowledge/")

    assert_error(post(client, f"{API}{d13.pk}/acknowledge/"), 409, "invalid_transition")
    assert_error(
        post(client, f"{API}{d13.pk}/close/", {"actions": "已清理", "result": "solved"}), 409, "invalid_transition"
    )


def test_the_lead_closing_before_the_co_operating_departments_is_a_409(cast, whistle):
    d13 = task_of(whistle, "D13")
    task_check_in(task=d13, actor=cast.d13_staff)

    response = post(token_client(cast.d13_staff), f"{API}{d13.pk}/close/", {"actions": "已清理", "result": "solved"})

    assert_error(response, 409, "co_operating_open", text="D12")


def test_a_return_sends_the_whistle_to_the_dispatcher(cast, whistle):
    d13 = task_of(whistle, "D13")

    response = post(
        token_client(cast.d13_staff),
        f"{API}{d13.pk}/return/",
        {"reason_code": "not_ours", "reason": "属于住建委职责", "suggested_department": "D12"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "returned" and body["suggested_department"] == "D12"
    assert body["whistle"]["status"] == "awaiting_dispatch"


def test_an_extension_is_requested_and_decided_through_the_api(cast, whistle):
    d13 = task_of(whistle, "D13")
    until = "2026-03-20T10:00:00+08:00"

    body = post(token_client(cast.d13_staff), f"{API}{d13.pk}/extension/", {"until": until, "reason": "需协调"}).json()
    extension_id = body["extensions"][0]["id"]
    assert body["extensions"][0]["status"] == "pending"

    path = f"/api/v1/extensions/{extension_id}/decide/"
    assert_error(post(token_client(cast.s01_staff), path, {"decision": "approve"}), 403, "permission_denied")
    assert_error(post(token_client(cast.d12_staff), path, {"decision": "approve"}), 404, "not_found")
    assert_error(post(token_client(cast.s01_head), path, {"decision": "maybe"}), 400, "invalid", "decision")
    response = post(token_client(cast.s01_head), path, {"decision": "approve", "note": "同意"})

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    d13.refresh_from_db()
    assert d13.resolve_due_at == datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)
    assert_error(post(token_client(cast.s01_head), path, {"decision": "refuse", "note": "x"}), 409, "decided")


def test_the_pending_extensions_are_listed_for_those_who_decide_them(cast, whistle):
    d13 = task_of(whistle, "D13")
    extension = task_request_extension(
        task=d13, actor=cast.d13_staff, until=MONDAY_10 + timedelta(days=20), reason="需协调"
    )

    listed = token_client(cast.s01_head).get("/api/v1/extensions/").json()["results"]

    assert [(row["id"], row["task"], row["status"]) for row in listed] == [(extension.pk, d13.pk, "pending")]
    assert token_client(cast.s02_head).get("/api/v1/extensions/").json()["results"] == []
    assert_error(token_client(cast.d13_staff).get("/api/v1/extensions/"), 403, "permission_denied")


def test_a_second_pending_extension_is_a_409(cast, whistle):
    d13 = task_of(whistle, "D13")
    task_request_extension(task=d13, actor=cast.d13_staff, until=MONDAY_10 + timedelta(days=20), reason="需协调")

    response = post(
        token_client(cast.d13_staff),
        f"{API}{d13.pk}/extension/",
        {"until": "2026-03-25T10:00:00+08:00", "reason": "再申请"},
    )

    assert_error(response, 409, "pending")


def test_the_schema_documents_the_task_endpoints():
    client = APIClient()

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    for path in ("/api/v1/tasks/{id}/check-in/", "/api/v1/tasks/{id}/close/", "/api/v1/extensions/{id}/decide/"):
        assert path in schema

"""One hotline case through its whole life, over HTTP, with the live worker routing it.

hotline submits → the worker routes it → the co-operating departments and the
lead acknowledge, check in and close → the street confirms and rates each
department → the hotline records the citizen's callback.
"""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import WHISTLE_FIELDS
from tests.live_worker import wait_until, worker_log
from whistle.models import Event, Whistle

pytestmark = [pytest.mark.live_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def call(client, user, path, body=None):
    client.force_login(user)
    response = client.post(path, body or {}, content_type="application/json") if body is not None else client.get(path)
    assert response.status_code in (200, 201), (path, response.status_code, response.content[:500])
    return response.json()


def test_a_hotline_case_from_the_call_to_the_citizens_verdict(cast, client, live_worker):
    token = Token.objects.create(user=cast.hotline)
    submitted = client.post(
        "/api/v1/whistles/",
        {**WHISTLE_FIELDS, "source": "hotline", "external_id": "12345-2026-000777", "caller_phone": "13800000000"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert submitted.status_code == 201, submitted.content
    number = submitted.json()["number"]

    def routed():
        return Whistle.objects.filter(number=number, status=Whistle.Status.ROUTED).exists()

    try:
        wait_until(routed, what=f"routing of {number}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker_log(live_worker)}") from None

    staff = {"D13": cast.d13_staff, "D12": cast.d12_staff, "E06": cast.e06_staff}
    tasks = call(client, cast.supervisor, f"/api/v1/whistles/{number}/")["tasks"]
    assert sorted((t["department"]["code"], t["role"], t["light"]) for t in tasks) == [
        ("D12", "co_operating", "green"),
        ("D13", "lead", "green"),
        ("E06", "co_operating", "green"),
    ]
    for task in sorted(tasks, key=lambda t: t["role"] == "lead"):  # the lead closes last
        user, path = staff[task["department"]["code"]], f"/api/v1/tasks/{task['id']}"
        assert [t["id"] for t in call(client, user, "/api/v1/tasks/")["results"]] == [task["id"]]
        call(client, user, f"{path}/acknowledge/", {})
        call(client, user, f"{path}/check-in/", {"lon": 115.975, "lat": 40.465, "note": "已到现场"})
        call(client, user, f"{path}/close/", {"actions": "清理楼道杂物，恢复消防通道。", "result": "solved"})

    assert call(client, cast.s01_staff, f"/api/v1/whistles/{number}/")["status"] == "resolved"
    call(client, cast.s01_staff, f"/api/v1/whistles/{number}/confirm/", {})
    for code in staff:
        call(
            client,
            cast.s01_staff,
            f"/api/v1/whistles/{number}/rate/",
            {"department": code, "response": 5, "attitude": 5, "result": 4, "comment": "及时"},
        )
    client.logout()
    callback = client.post(
        f"/api/v1/whistles/{number}/callback/",
        {"satisfaction": "satisfied", "solved": True, "note": "市民表示满意"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert callback.status_code == 200, callback.content

    whistle = call(client, cast.supervisor, f"/api/v1/whistles/{number}/")
    assert whistle["status"] == "closed"
    assert len(whistle["ratings"]) == 3 and len(whistle["callbacks"]) == 1
    assert {t["status"] for t in whistle["tasks"]} == {"closed"}
    verbs = list(Event.objects.filter(whistle__number=number, task=None).values_list("verb", flat=True))
    assert verbs[:2] == ["submitted", "routed"] and "resolved" in verbs and "confirmed" in verbs
    per_task = Event.objects.filter(whistle__number=number).exclude(task=None)
    assert sorted(per_task.values_list("verb", flat=True)).count("closed") == 3

"""The API's side of intake beyond the basic submission: attributes, duplicates, the queue, approvals, overdue."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from departments.models import CategoryAttribute
from tests.whistle.test_api import API, BODY, NOW, assert_error, post, raise_whistle, routed, token_client
from whistle.models import Whistle


@time_machine.travel(NOW, tick=False)
def test_attributes_and_the_callers_email_are_stored_and_shown_by_role(cast):
    CategoryAttribute.objects.create(
        category=cast.compound,
        code="floors",
        description="涉及楼层数",
        datatype="number",
        required=True,
    )
    body = {**BODY, "attributes": {"floors": 3}, "caller_email": "zhang.li@example.com"}

    created = post(token_client(cast.hotline), API, body)

    assert created.status_code == 201, created.json()
    assert created.json()["attributes"] == {"floors": 3}
    assert created.json()["caller_email"] == "zhang.li@example.com"
    number = created.json()["number"]
    street_view = token_client(cast.s01_staff).get(f"{API}{number}/").json()
    assert street_view["caller_email"] == "z*******@example.com"
    assert street_view["attributes"] == {"floors": 3}


@time_machine.travel(NOW, tick=False)
def test_attribute_answers_are_checked_by_the_service_and_named_in_the_error(cast):
    CategoryAttribute.objects.create(
        category=cast.compound, code="floors", description="涉及楼层数", datatype="number", required=True
    )
    client = token_client(cast.hotline)

    assert_error(post(client, API, BODY), 400, "invalid", field="attributes.floors")
    assert_error(post(client, API, {**BODY, "attributes": {"floors": "三"}}), 400, "invalid", field="attributes.floors")
    assert_error(post(client, API, {**BODY, "attributes": ["floors"]}), 400, "invalid", field="attributes")
    assert Whistle.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_whistle_raised_as_a_duplicate_is_merged_at_once(cast):
    primary = routed(cast.s01_staff)
    client = token_client(cast.s01_staff)

    response = post(client, API, {**BODY, "duplicate_of": primary.number})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == Whistle.Status.MERGED
    assert response.json()["merged_into"] == primary.number
    missing = post(client, API, {**BODY, "title": "另一个", "duplicate_of": "S01-2026-999999"})
    assert_error(missing, 400, "invalid", field="duplicate_of")
    assert Whistle.objects.count() == 2


@time_machine.travel(NOW, tick=False)
def test_possible_duplicates_near_a_point(cast):
    near = routed(cast.s01_staff)
    client = token_client(cast.s01_staff)

    found = client.get(f"{API}duplicates/?category=ENV-COMPOUND&lon=115.9751&lat=40.4651")
    far = client.get(f"{API}duplicates/?category=ENV-COMPOUND&lon=115.995&lat=40.465")

    assert found.status_code == 200, found.json()
    assert [row["number"] for row in found.json()] == [near.number]
    assert 0 < found.json()[0]["distance_m"] < 50
    assert far.json() == []
    assert_error(client.get(f"{API}duplicates/?lon=115.97&lat=40.46"), 400, "invalid", field="category")
    assert_error(client.get(f"{API}duplicates/?category=X&lon=500&lat=40.46"), 400, "invalid", field="lon")


@time_machine.travel(NOW, tick=False)
def test_the_dispatchers_queue_and_the_approvals_waiting(cast):
    waiting = routed(cast.s01_staff, category="MISC-OTHER")
    draft = raise_whistle(cast.s01_party)

    queue = token_client(cast.s01_dispatcher).get(f"{API}queue/")
    approvals = token_client(cast.s01_staff).get(f"{API}approvals/")

    assert [row["number"] for row in queue.json()["results"]] == [waiting.number]
    assert draft.status == Whistle.Status.DRAFT
    assert draft.number in [row["number"] for row in approvals.json()["results"]]
    assert token_client(cast.d13_staff).get(f"{API}queue/").json()["results"] == []
    assert token_client(cast.s02_dispatcher).get(f"{API}queue/").json()["results"] == []


@time_machine.travel(NOW, tick=False)
def test_whistles_filtered_by_overdue(cast):
    late = routed(cast.s01_staff)
    client = token_client(cast.supervisor)

    assert client.get(f"{API}?overdue=true").json()["results"] == []
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        fresh = routed(cast.s01_staff, title="新的")
        overdue = client.get(f"{API}?overdue=true").json()["results"]
        on_time = client.get(f"{API}?overdue=false").json()["results"]
    assert [row["number"] for row in overdue] == [late.number]
    assert fresh.number in [row["number"] for row in on_time]
    assert_error(client.get(f"{API}?overdue=maybe"), 400, "invalid", field="overdue")


def test_a_time_with_an_offset_beyond_the_databases_range_is_still_a_time(cast):
    """Python allows offsets up to ±23:59, PostgreSQL ±15:59: times are passed on in UTC."""
    client = token_client(cast.supervisor)

    response = client.get(f"{API}?created_after=0504-03-05T12:17:23.4-17:12")

    assert response.status_code == 200, response.json()


@time_machine.travel(NOW, tick=False)
def test_a_whistle_placed_by_its_community_alone(cast):
    body = {key: value for key, value in BODY.items() if key not in ("lon", "lat")}

    response = post(token_client(cast.hotline), API, {**body, "community": "S01C01", "address": "百泉第1社区3号楼"})

    assert response.status_code == 201, response.json()
    assert response.json()["street"]["code"] == "S01"
    assert response.json()["community"]["code"] == "S01C01"
    assert response.json()["grid"] is None


@time_machine.travel(NOW, tick=False)
def test_the_answer_to_a_submission_shows_the_whistle_as_stored_without_reading_it_again(
    cast, django_assert_max_num_queries
):
    client = token_client(cast.hotline)
    post(client, API, {**BODY, "external_id": "12345-0000"})  # the catalogue and grid caches of this process, warm

    # Token with membership, two version stamps, number, whistle, event: nothing more.
    with django_assert_max_num_queries(8):
        response = post(client, API, {**BODY, "external_id": "12345-0001"})

    body = response.json()
    assert response.status_code == 201, body
    assert body["status"] == "submitted" and body["tasks"] == [] and body["duplicates"] == []
    assert [(event["verb"], event["actor"]) for event in body["events"]] == [("submitted", "hotline")]
    again = token_client(cast.hotline).get(f"{API}{body['number']}/").json()
    assert {key: value for key, value in again.items() if key in body} == {
        key: value for key, value in body.items() if key in again
    }


def test_notifications_filtered_by_read_state_with_a_clear_error_otherwise(cast):
    routed(cast.s01_staff)
    client = token_client(cast.d13_staff)

    unread = client.get("/api/v1/notifications/?unread=1").json()["results"]
    read = client.get("/api/v1/notifications/?unread=false").json()["results"]

    assert unread and all(row["read_at"] is None for row in unread)
    assert read == []
    assert_error(client.get("/api/v1/notifications/?unread=maybe"), 400, "invalid", field="unread")

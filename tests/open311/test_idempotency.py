"""Idempotency-Key on Open311's POST requests: the api_key's user holds the key."""

import time_machine

from tests.open311.conftest import assert_error
from tests.open311.test_post import REQUEST, post
from whistle.models import Whistle

KEY = "hotline-work-order-20260302-0001"


@time_machine.travel("2026-03-02 10:00 +08:00", tick=False)
def test_a_repeated_post_answers_the_first_request_id_and_stores_one_whistle(client, o311):
    key = o311.keys["hotline"]

    first = post(client, key, REQUEST, HTTP_IDEMPOTENCY_KEY=KEY)
    again = post(client, key, dict(reversed(list(REQUEST.items()))), HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == 201, first.content.decode()
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Whistle.objects.count() == 1


@time_machine.travel("2026-03-02 10:00 +08:00", tick=False)
def test_the_same_key_for_another_request_is_refused_in_the_specs_error_format(client, o311):
    key = o311.keys["hotline"]
    post(client, key, REQUEST, HTTP_IDEMPOTENCY_KEY=KEY)

    response = post(client, key, {**REQUEST, "description": "另一件事"}, fmt="xml", HTTP_IDEMPOTENCY_KEY=KEY)

    assert_error(response, 409)
    assert response["Content-Type"].startswith("text/xml")
    assert Whistle.objects.count() == 1

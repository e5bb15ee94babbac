"""Idempotency-Key on every POST of the API: a repeat answers the first answer and changes nothing."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from django.utils import timezone

from idempotency.models import IdempotencyKey
from idempotency.services import idempotency_keys_purge
from tests.whistle.test_api import API, BODY, NOW, assert_error, routed, session_client, token_client
from whistle.models import Event, Whistle

KEY = "6f1c2a6e-1d9b-4b8e-9c57-3f0e2f7b8a10"


def post(client, path, data, key=KEY, **options):
    return client.post(path, data, format=options.pop("format", "json"), HTTP_IDEMPOTENCY_KEY=key, **options)


@time_machine.travel(NOW, tick=False)
def test_the_same_key_and_body_answer_the_first_answer_and_store_one_whistle(cast):
    client = token_client(cast.hotline)

    first = post(client, API, {**BODY, "caller_phone": "13800000000"})
    again = post(client, API, {"caller_phone": "13800000000", **BODY})  # the same fields, another order

    assert first.status_code == 201, first.json()
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Whistle.objects.count() == 1
    assert Event.objects.filter(verb="submitted").count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_same_key_with_another_body_is_a_409_and_nothing_is_stored(cast):
    client = token_client(cast.hotline)
    post(client, API, BODY)

    response = post(client, API, {**BODY, "title": "另一件事"})

    assert_error(response, 409, "idempotency_key_reused", field="Idempotency-Key", text="another request")
    assert Whistle.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_same_key_on_another_path_is_another_request(cast):
    client = token_client(cast.s01_staff)
    whistle = routed(cast.s01_staff)
    task = whistle.tasks.get(role="lead")
    department = token_client(cast.d13_staff)

    assert post(department, f"/api/v1/tasks/{task.pk}/acknowledge/", {}).status_code == 200
    response = post(department, f"/api/v1/tasks/{task.pk}/progress/", {"note": "在办"})

    assert_error(response, 409, "idempotency_key_reused")
    assert post(client, API, BODY).status_code == 201  # another client may use the same key


@time_machine.travel(NOW, tick=False)
def test_a_refused_request_is_answered_the_same_when_repeated(cast):
    client = token_client(cast.hotline)

    first = post(client, API, {**BODY, "lat": "40.4"})
    again = post(client, API, {**BODY, "lat": "40.4"})

    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


@time_machine.travel(NOW, tick=False)
def test_a_state_change_repeated_runs_once(cast):
    whistle = routed(cast.s01_staff)
    task = whistle.tasks.get(role="lead")
    client = token_client(cast.d13_staff)
    path = f"/api/v1/tasks/{task.pk}/acknowledge/"

    first = post(client, path, {})
    again = post(client, path, {})
    without_key = client.post(path, {}, format="json")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.filter(task=task, verb="acknowledged").count() == 1
    assert without_key.status_code == 409  # a plain repeat meets the task's state


@time_machine.travel(NOW, tick=False)
def test_a_browser_session_has_keys_of_its_own(cast):
    client = session_client(cast.s01_staff, enforce_csrf_checks=False)

    assert post(client, API, BODY).status_code == 201
    assert post(client, API, BODY).status_code == 201
    assert Whistle.objects.count() == 1
    assert IdempotencyKey.objects.get().user == cast.s01_staff


def test_a_key_that_is_not_visible_ascii_is_refused(cast):
    client = token_client(cast.hotline)

    for key in ["", "x" * 256, "含中文", "with space"]:
        response = post(client, API, BODY, key=key)
        assert_error(response, 400, "invalid", field="Idempotency-Key", text="visible ASCII")
    assert Whistle.objects.count() == 0


def test_a_request_without_credentials_is_refused_as_without_the_key(db):
    from rest_framework.test import APIClient

    response = post(APIClient(), API, BODY)

    assert_error(response, 401, "not_authenticated")
    assert IdempotencyKey.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_key_still_running_is_a_409_and_an_abandoned_one_runs_again(cast, settings):
    client = token_client(cast.hotline)
    IdempotencyKey.objects.create(
        user=cast.hotline, key=KEY, fingerprint=_fingerprint_of(BODY), started_at=timezone.now()
    )

    response = post(client, API, BODY)

    assert_error(response, 409, "idempotency_in_progress")
    assert response["Retry-After"] == "1"
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_LOCK_S + 1), tick=False):
        assert post(client, API, BODY).status_code == 201
    assert Whistle.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_answers_of_a_server_error_are_not_kept(cast, monkeypatch):
    import whistle.api

    client = token_client(cast.hotline)
    client.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(whistle.api, "whistle_submit", broken)
    assert post(client, API, BODY).status_code == 500
    assert IdempotencyKey.objects.count() == 0
    monkeypatch.undo()
    assert post(client, API, BODY).status_code == 201


@time_machine.travel(NOW, tick=False)
def test_keys_are_forgotten_after_their_time_to_live(cast, settings):
    client = token_client(cast.hotline)
    post(client, API, BODY)

    later = timezone.now() + timedelta(hours=settings.IDEMPOTENCY_TTL_H, minutes=1)
    with time_machine.travel(later, tick=False):
        # An expired key may be used again: a new request, run anew.
        response = post(client, API, {**BODY, "title": "第二件"})
        assert response.status_code == 201
        assert idempotency_keys_purge(now=later + timedelta(hours=settings.IDEMPOTENCY_TTL_H, minutes=1)) == 1
    assert IdempotencyKey.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_multipart_repeats_match_by_content_whatever_the_boundary(cast):
    whistle = routed(cast.s01_staff)
    task = whistle.tasks.get(department__code="D12")  # co-operating: closes first
    client = token_client(cast.d12_staff)
    client.post(f"/api/v1/tasks/{task.pk}/acknowledge/", {}, format="json")
    client.post(f"/api/v1/tasks/{task.pk}/check-in/", {}, format="json")
    path = f"/api/v1/tasks/{task.pk}/close/"

    def form(photo: bytes):
        return {
            "actions": "清理楼道",
            "result": "solved",
            "files": [SimpleUploadedFile("photo.png", photo, content_type="image/png")],
        }

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    first = post(client, path, form(png), format="multipart")
    again = client.post(
        path,
        encode_multipart("another-boundary", form(png)),
        HTTP_IDEMPOTENCY_KEY=KEY,
        content_type="multipart/form-data; boundary=another-boundary",
    )
    other = post(client, path, form(png + b"!"), format="multipart")

    assert first.status_code == 200, first.json()
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert Event.objects.filter(task=task, verb="closed").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@time_machine.travel(NOW, tick=False)
def test_two_repeats_at_once_run_the_request_once(cast):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    answers = []

    def send():
        answers.append(post(token_client(cast.hotline), API, BODY).status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Whistle.objects.count() == 1
    assert 201 in answers and set(answers) <= {201, 409}


def _fingerprint_of(body) -> str:
    """The fingerprint the middleware computes for this POST (through a request it records)."""
    from django.test import RequestFactory

    from idempotency.middleware import request_fingerprint

    request = RequestFactory().post(API, body, content_type="application/json")
    return request_fingerprint(request)

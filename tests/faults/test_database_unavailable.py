"""A database that cannot be reached: 503 with Retry-After, in the API's error shape or as a page (config.middleware).

In-process, on whatever database the suite runs on: connecting is made to
fail for the length of one request. test_postgres_restart.py does the same
with a real PostgreSQL stopped under a running web server.
"""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WHISTLE = {"title": "停电", "description": "小区停电。", "category": "ENV-COMPOUND", "lon": 115.975, "lat": 40.465}


def database_down(error: Exception | None = None):
    """Connecting fails (as with PostgreSQL stopped) until the block ends."""
    error = error or OperationalError("connection refused")
    return mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error)


@pytest.fixture
def token():
    return Token.objects.create(user=UserFactory(username="s01_staff")).key


def test_an_api_request_answers_503_in_the_error_shape_when_the_database_is_away(client, token):
    with database_down():
        response = client.get("/api/v1/whistles/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "code": "unavailable",
        "message": "The database cannot be reached just now. Please try again in a moment.",
        "fields": {},
    }


def test_a_page_answers_503_with_a_plain_page_when_the_database_is_away(client):
    client.force_login(UserFactory(username="s01_staff"))
    with database_down(InterfaceError("connection already closed")):
        response = client.get("/whistles/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Service unavailable</h1>" in response.content.decode()


def test_the_database_lost_inside_a_middleware_also_answers_503(token):
    """The idempotency middleware looks up its key before any view runs."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    with database_down():
        response = client.post(
            "/api/v1/whistles/",
            WHISTLE,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
            HTTP_IDEMPOTENCY_KEY="4f1c2a9e-0d5b-4c1e-9a57-2f0e6b1d3c8a",
        )

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"


def test_any_other_error_is_still_a_500(token):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    with database_down(ValueError("a bug, not an outage")):
        response = client.get("/api/v1/whistles/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 500

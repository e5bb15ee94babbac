"""Rate limits per token, per signed-in user and per address: 429 with Retry-After beyond them."""

from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.whistle.test_api import assert_error, session_client, token_client

TASKS = "/api/v1/tasks/"
NOW = "2026-03-02 10:00:10 +08:00"


def client_of(token: Token) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@time_machine.travel(NOW, tick=False)
def test_a_token_beyond_its_rate_gets_429_with_retry_after(cast, settings):
    settings.API_RATE_TOKEN = (3, 60)
    client = token_client(cast.d13_staff)

    answers = [client.get(TASKS).status_code for _ in range(3)]
    refused = client.get(TASKS)

    assert answers == [200, 200, 200]
    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"] == "50"  # the minute's window ends 50 s later
    with time_machine.travel(timezone.now() + timedelta(seconds=50), tick=False):
        assert client.get(TASKS).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_each_token_and_each_user_has_a_budget_of_its_own(cast, settings):
    settings.API_RATE_TOKEN = (2, 60)
    settings.API_RATE_USER = (2, 60)
    first = client_of(Token.objects.create(user=cast.d13_staff))
    for _ in range(2):
        first.get(TASKS)
    assert first.get(TASKS).status_code == 429

    # Another system of the same department, with a token of its own; the browser's session; another user.
    # (Token.key is the primary key: a second token of one user is made by hand.)
    second = client_of(Token.objects.create(user=cast.d12_staff))
    assert second.get(TASKS).status_code == 200
    assert session_client(cast.d13_staff).get(TASKS).status_code == 200
    assert token_client(cast.t01_staff).get(TASKS).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_anonymous_requests_are_counted_by_address(db, settings):
    settings.API_RATE_ANON = (2, 60)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    assert [client.get("/api/schema/").status_code for _ in range(2)] == [200, 200]
    assert_error(client.get("/api/v1/no-such-thing/"), 429, "throttled")
    other = APIClient(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.9")
    assert other.get("/api/schema/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_rate_of_zero_turns_the_limit_off(cast, settings):
    settings.API_RATE_TOKEN = (0, 60)
    client = token_client(cast.d13_staff)

    assert {client.get(TASKS).status_code for _ in range(5)} == {200}


def test_a_rate_that_cannot_be_read_stops_the_process(monkeypatch):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_rate

    monkeypatch.setenv("API_RATE_TOKEN", "100 per minute")
    with pytest.raises(ImproperlyConfigured, match="API_RATE_TOKEN"):
        env_rate("API_RATE_TOKEN", "1/second")
    monkeypatch.setenv("API_RATE_TOKEN", "100/hour")
    assert env_rate("API_RATE_TOKEN", "1/second") == (100, 3600)


@time_machine.travel(NOW, tick=False)
def test_requests_go_through_when_the_cache_is_down(cast, settings):
    settings.API_RATE_TOKEN = (1, 60)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    client = token_client(cast.d13_staff)

    assert [client.get(TASKS).status_code for _ in range(2)] == [200, 200]

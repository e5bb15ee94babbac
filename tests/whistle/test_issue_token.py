"""python manage.py issue_token: the API token of a machine client such as the 12345 hotline."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def issue(*args) -> str:
    out = StringIO()
    call_command("issue_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_the_token_is_created_once_and_printed_each_time(cast):
    key = issue("hotline")

    assert key == Token.objects.get(user=cast.hotline).key
    assert issue("hotline") == key


def test_the_printed_token_signs_the_client_in(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue('hotline')}")

    assert client.get("/api/v1/whistles/").status_code == 200


def test_rotate_replaces_the_token_and_the_old_one_stops_working(cast):
    old = issue("hotline")

    new = issue("hotline", "--rotate")

    assert new != old and Token.objects.get(user=cast.hotline).key == new
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/whistles/").status_code == 401


def test_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="There is no user nobody."):
        issue("nobody")
    assert Token.objects.count() == 0


def test_an_inactive_user_gets_the_token_and_a_warning(cast):
    cast.outsider.is_active = False
    cast.outsider.save(update_fields=["is_active"])
    err = StringIO()

    call_command("issue_token", "outsider", stdout=StringIO(), stderr=err)

    assert "inactive" in err.getvalue()


# revoke_token -----------------------------------------------------------------------------


def revoke(*args) -> str:
    out = StringIO()
    call_command("revoke_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_a_revoked_token_is_refused_at_once_and_a_new_one_can_be_issued(cast):
    old = issue("hotline")

    assert revoke("hotline") == "The API token of hotline is withdrawn."

    assert not Token.objects.filter(user=cast.hotline).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/whistles/").status_code == 401
    assert issue("hotline") != old


def test_revoking_twice_or_for_an_unknown_user_says_so(cast):
    assert revoke("hotline") == "hotline has no API token: nothing to withdraw."
    with pytest.raises(CommandError, match="There is no user nobody."):
        revoke("nobody")

"""Machine tokens in the admin: listed, issued and revoked by an administrator, with the user's scope."""

from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.whistle.test_api import assert_error, token_client


def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_an_administrator_issues_lists_and_revokes_a_token(client, cast):
    admin = admin_client(client)

    issued = admin.post(reverse("admin:authtoken_tokenproxy_add"), {"user": cast.hotline.pk})
    token = Token.objects.get(user=cast.hotline)
    listing = admin.get(reverse("admin:authtoken_tokenproxy_changelist"))
    api = token_client(cast.hotline)
    scope = api.get("/api/v1/whistles/")

    assert issued.status_code == 302
    assert "hotline" in listing.content.decode()
    assert scope.status_code == 200  # the hotline user's own scope
    assert_error(api.get("/api/v1/supervision-orders/"), 403, "permission_denied")

    revoked = admin.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[token.user_id]), {"post": "yes"}
    )  # listed by user

    assert revoked.status_code == 302
    assert not Token.objects.filter(user=cast.hotline).exists()
    assert_error(api.get("/api/v1/whistles/"), 401, "authentication_failed")

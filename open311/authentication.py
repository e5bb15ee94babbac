"""The spec's api_key: a DRF authtoken key, sent in the form body (POST) or the query string."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from config.authentication import USER_RELATIONS


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """An api_key given is the token of an active user, or the request is refused (403); none given is anonymous.

    An empty api_key counts as none, as the spec treats every empty optional argument.
    """

    def authenticate(self, request):
        key = request.query_params.get("api_key") or ""
        if not key and request.method == "POST":
            key = request.data.get("api_key") or ""
        key = key.strip() if isinstance(key, str) else ""
        if not key:
            return None
        token = Token.objects.select_related(*USER_RELATIONS).filter(key=key[:64]).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("api_key: this key is not valid."))
        return token.user, token

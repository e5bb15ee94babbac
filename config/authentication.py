"""`Authorization: Token …` with the user's membership read in the same query.

Every access check starts from the membership (whistle.permissions.membership_of):
read with the token, it costs no query of its own on each request.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

# The membership and its unit, joined to the token's row.
USER_RELATIONS = ("user__membership__street", "user__membership__department", "user__membership__district")


class MembershipTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = self.get_model().objects.select_related(*USER_RELATIONS).filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))  # DRF's own messages
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token

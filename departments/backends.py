"""Sign-in that loads the user's membership and unit with the user: every page needs them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MembershipBackend(ModelBackend):
    """Django's model backend; the user of each request comes with membership, street, department and district."""

    def get_user(self, user_id):
        # A user without a membership still loads: the outer join yields no related row.
        related = ("membership__street", "membership__department", "membership__district")
        user = get_user_model()._default_manager.select_related(*related).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

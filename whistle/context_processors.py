"""What every page's header shows of the signed-in user: their unit, their role, their unread notices."""

from whistle.permissions import membership_of
from whistle.selectors import notifications_unread_count


def header(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = membership_of(user)
    return {
        "header_membership": membership,
        "header_unit": (membership.department or membership.street or membership.district) if membership else None,
        "inbox_unread": notifications_unread_count(user=user),
    }

"""The warning that a year's public holidays are not entered yet (DESIGN.md, "Deadlines")."""

from django.contrib.auth import get_user_model
from django.db.models import Exists
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from departments.models import Membership
from escalation.models import WorkCalendarYear
from escalation.policy import current_calendar


def warning_years(today) -> list[int]:
    """The years a deadline set today may reach: this one, and from 1 December on the next one too."""
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


def missing_years_for(user) -> list[int]:
    """The years without a complete calendar, for staff and supervisors; [] for anyone else.

    At most one query: staff pay the snapshot's version read; a user whose
    membership is loaded already pays it only when a supervisor; any other
    signed-in user one query that checks the role and the years together.
    """
    if not user.is_authenticated:
        return []
    years = warning_years(timezone.localdate())
    if user.is_staff:
        return current_calendar().missing_years(years)
    if get_user_model().membership.related.is_cached(user):
        try:
            role = user.membership.role
        except Membership.DoesNotExist:  # RelatedObjectDoesNotExist: a user without a unit
            return []
        return current_calendar().missing_years(years) if role == Membership.Role.SUPERVISOR else []
    complete = {f"complete_{year}": Exists(WorkCalendarYear.objects.filter(year=year, complete=True)) for year in years}
    row = Membership.objects.filter(user_id=user.pk, role=Membership.Role.SUPERVISOR).values(**complete).first()
    if row is None:
        return []
    return [year for year in years if not row[f"complete_{year}"]]


def missing_years_message(years: list[int]) -> str:
    if not years:
        return ""
    listed = get_text_list([str(year) for year in years], _("and"))
    return _(
        "The public holidays of %(years)s are not entered yet: deadlines in %(years)s count Monday to Friday only."
    ) % {"years": listed}


def calendar_warning(request):
    """``calendar_warning``: the message, or "" — computed only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None:
        return {"calendar_warning": ""}
    return {"calendar_warning": SimpleLazyObject(lambda: missing_years_message(missing_years_for(user)))}

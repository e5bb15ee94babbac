"""Writes to the organisation model and the responsibility catalogue."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from departments.models import Category, Department, Responsibility
from grids.models import Street


def responsibility_check_single_lead(
    *, category: Category, role: str, streets: Iterable[Street], exclude_pk: int | None = None
) -> None:
    """Refuse a second lead of the same scope for a category in a street.

    A district-wide lead and a street-scoped lead may coexist (the street's
    own rule wins there); two district-wide leads, or two leads scoped to the
    same street, may not.
    """
    if role != Responsibility.Role.LEAD:
        return
    streets = list(streets)
    leads = (
        Responsibility.objects.filter(category=category, role=Responsibility.Role.LEAD)
        .exclude(pk=exclude_pk)
        .select_related("department")
        .prefetch_related("streets")
    )
    wanted = {street.pk for street in streets}
    for rule in leads:
        scope = {street.pk for street in rule.streets.all()}
        if not wanted and not scope:
            raise ValidationError(
                _("Category %(category)s already has a district-wide lead: %(department)s.")
                % {"category": category, "department": rule.department},
                code="second_lead",
            )
        clash = wanted & scope
        if clash:
            street = next(s for s in streets if s.pk in clash)
            raise ValidationError(
                _("Category %(category)s already has a lead in %(street)s: %(department)s.")
                % {"category": category, "street": street, "department": rule.department},
                code="second_lead",
            )


@transaction.atomic
def responsibility_create(
    *,
    category: Category,
    department: Department,
    role: str,
    streets: Iterable[Street] = (),
    note: str = "",
) -> Responsibility:
    streets = list(streets)
    # Lock the category row so two concurrent writers cannot both pass the
    # single-lead check for the same category.
    Category.objects.select_for_update().filter(pk=category.pk).first()
    responsibility_check_single_lead(category=category, role=role, streets=streets)
    rule = Responsibility(category=category, department=department, role=role, note=note)
    rule.full_clean()
    rule.save()
    rule.streets.set(streets)
    return rule

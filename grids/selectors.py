"""Read queries of the geography, scoped to the user's district."""

from django.db.models import QuerySet


def district_of(user) -> int | None:
    """The id of the user's district (a street's member, a department's or the supervision office's); None without a unit.

    Reads the user's membership through its relation, loaded once per user
    object (departments, which owns memberships, sits above this app).
    """
    membership = getattr(user, "membership", None)
    if membership is None:
        return None
    if membership.district_id:
        return membership.district_id
    unit = membership.street or membership.department
    return unit.district_id if unit is not None else None


def in_users_district(rows: QuerySet, district_lookup: str, user) -> QuerySet:
    """`rows` of the user's district (every district for an administrator, none for a user without a unit)."""
    if user.is_superuser:
        return rows
    return rows.filter(**{district_lookup: district_of(user)})

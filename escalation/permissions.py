"""Who may see supervision orders (督办单) and accountability records (问责记录).

As in whistle.permissions: one queryset filter per object type (`order_scope`,
`record_scope`) used by every list, and one access helper per object type
(`access_order`, `access_record`) that applies the same filter, so a list and
a detail page never disagree. Invisible is "not found" (404); what a visible
object allows each role to do is decided by the services (403 when refused).

- Supervisors see the orders and records of their district.
- A department sees the orders on its own tasks and its own records.
- A street sees the orders on the tasks of its whistles (never the ledger).
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from config.errors import InvalidInput, NotAllowed, NotFound
from departments.models import DEPARTMENT_ROLES, Membership
from escalation.models import AccountabilityRecord, SupervisionOrder
from whistle.permissions import in_district, membership_of

R = Membership.Role


def is_supervisor(user) -> bool:
    """A supervisor of a district, or an administrator (who sees every district)."""
    if user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and membership.role == R.SUPERVISOR


def is_department_member(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role in DEPARTMENT_ROLES


def require_supervisor(user) -> Membership | None:
    """The supervisor's membership (None for an administrator); else NotAllowed."""
    if not is_supervisor(user):
        raise NotAllowed(_("Only supervisors may open this page."))
    return membership_of(user)


def order_scope(user, orders: QuerySet[SupervisionOrder] | None = None) -> QuerySet[SupervisionOrder]:
    """The supervision orders (of `orders`, default all) the user may see."""
    orders = SupervisionOrder.objects.all() if orders is None else orders
    if user.is_superuser:
        return orders
    membership = membership_of(user)
    if membership is None:
        return orders.none()
    if membership.role == R.SUPERVISOR:
        return in_district(orders, "task__whistle__street_id", membership)
    if membership.department_id:
        return orders.filter(task__department_id=membership.department_id)
    if membership.street_id:
        return orders.filter(task__whistle__street_id=membership.street_id)
    return orders.none()


def record_scope(user, records: QuerySet[AccountabilityRecord] | None = None) -> QuerySet[AccountabilityRecord]:
    """The accountability records (of `records`, default all) the user may see."""
    records = AccountabilityRecord.objects.all() if records is None else records
    if user.is_superuser:
        return records
    membership = membership_of(user)
    if membership is None:
        return records.none()
    if membership.role == R.SUPERVISOR:
        return in_district(records, "whistle__street_id", membership)
    if membership.department_id:
        return records.filter(department_id=membership.department_id)
    return records.none()


def sees_ledger(user) -> bool:
    """Whether the user's role has an accountability ledger at all (supervisors, departments)."""
    return is_supervisor(user) or is_department_member(user)


def sees_orders(user) -> bool:
    """Whether the user's role has a list of supervision orders (supervisors, departments, streets)."""
    if user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and (
        membership.role == R.SUPERVISOR or bool(membership.department_id) or bool(membership.street_id)
    )


def _pk(value) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    # Beyond a 64-bit key there is no row; do not let the database overflow on it.
    return pk if 0 < pk < 2**63 else None


def access_order(user, pk, *, queryset: QuerySet[SupervisionOrder] | None = None) -> SupervisionOrder:
    """The supervision order with this id if the user may see it, else NotFound."""
    order_id = _pk(pk)
    order = order_scope(user, queryset).filter(pk=order_id).first() if order_id else None
    if order is None:
        raise NotFound(_("Supervision order %(id)s does not exist or is not visible to you.") % {"id": pk})
    return order


def access_record(user, pk, *, queryset: QuerySet[AccountabilityRecord] | None = None) -> AccountabilityRecord:
    """The accountability record with this id if the user may see it, else NotFound."""
    record_id = _pk(pk)
    record = record_scope(user, queryset).filter(pk=record_id).first() if record_id else None
    if record is None:
        raise NotFound(_("Accountability record %(id)s does not exist or is not visible to you.") % {"id": pk})
    return record


def may_reply(user, order: SupervisionOrder) -> bool:
    """Whether the reply form is offered: staff of the task's department, while the order is open.

    Only a hint for the page; supervision_order_reply checks the rule again.
    """
    membership = membership_of(user)
    return (
        order.status == SupervisionOrder.Status.OPEN
        and membership is not None
        and membership.role in DEPARTMENT_ROLES
        and membership.department_id == order.task.department_id
    )


def supervises(user) -> bool:
    """Whether the user acts as a supervisor (opens, closes, annotates): the role, not the administrator flag.

    Only a hint for the pages, on objects already in the user's scope (so of
    their district); the services check the rule again.
    """
    membership = membership_of(user)
    return membership is not None and membership.role == R.SUPERVISOR


def may_close(user, order: SupervisionOrder) -> bool:
    """Whether the close form is offered: a supervisor, while the order is not closed."""
    return order.status != SupervisionOrder.Status.CLOSED and supervises(user)


def evaluation_district(user, code: str | None = None):
    """The district whose evaluation the user sees: a supervisor's own; an administrator names one.

    Others get NotAllowed. An administrator (no district of their own) gives
    `code`, or needs none while there is only one district.
    """
    from grids.models import District

    membership = require_supervisor(user)
    if membership is not None and membership.role == R.SUPERVISOR:
        return District.objects.get(pk=membership.district_id)
    code = (code or "").strip() if isinstance(code, str) else ""
    if code:
        district = District.objects.filter(code=code).first()
        if district is None:
            raise InvalidInput(fields={"district": [_("Unknown district %(code)s.") % {"code": code}]})
        return district
    districts = list(District.objects.order_by("code")[:2])
    if len(districts) != 1:
        raise InvalidInput(fields={"district": [_("Choose the district (its code).")]})
    return districts[0]

"""Who may see and decide extension requests, and who acts for a department on a task.

Tasks themselves are reached through whistle.permissions (`task_scope`,
`access_task`, `require_task_actor`); an extension request is seen by whoever
sees its task, and decided by the head of the whistle's street or a
supervisor of its district.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from config.errors import NotAllowed, NotFound
from departments.models import Membership, Responsibility
from whistle.models import Extension, Task
from whistle.permissions import membership_of, task_scope

R = Membership.Role


def extension_scope(user, extensions: QuerySet[Extension] | None = None) -> QuerySet[Extension]:
    """The extension requests (of `extensions`, default all) whose task the user may see."""
    extensions = Extension.objects.all() if extensions is None else extensions
    return extensions.filter(task__in=task_scope(user).values("pk"))


def extension_deciders_filter(user) -> Q | None:
    """The extensions this user may decide, as a filter; None when the role decides none."""
    membership = membership_of(user)
    if membership is None:
        return None
    if membership.role == R.STREET_HEAD:
        return Q(task__whistle__street_id=membership.street_id)
    if membership.role == R.SUPERVISOR:
        return Q(task__whistle__street__district_id=membership.district_id)
    return None


def access_extension(user, extension_id, *, queryset: QuerySet[Extension] | None = None) -> Extension:
    """The extension request with this id if the user may see its task, else NotFound."""
    try:
        extension_id = int(extension_id)
    except (TypeError, ValueError):
        extension_id = None
    extension = extension_scope(user, queryset).filter(pk=extension_id).first() if extension_id else None
    if extension is None:
        raise NotFound(
            _("Extension request %(id)s does not exist or is not visible to you.") % {"id": extension_id or "—"}
        )
    return extension


def may_decide_extension(user, task: Task) -> bool:
    membership = membership_of(user)
    if membership is None:
        return False
    street = task.whistle.street
    if membership.role == R.STREET_HEAD:
        return membership.street_id == street.pk
    if membership.role == R.SUPERVISOR:
        return membership.district_id == street.district_id
    return False


def require_extension_decider(user, task: Task) -> Membership:
    """The head of the whistle's street or a supervisor of its district; else NotAllowed."""
    if not may_decide_extension(user, task):
        raise NotAllowed(_("Only the head of the whistle's street or a supervisor decides an extension request."))
    return membership_of(user)


def is_dispatcher_of(user, task: Task) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == R.DISPATCHER and membership.street_id == task.whistle.street_id


def is_lead_head(user, task: Task) -> bool:
    """Whether the user heads the department of this lead task (who may grant others a hand on it)."""
    membership = membership_of(user)
    return (
        membership is not None
        and membership.role == R.DEPT_HEAD
        and membership.department_id == task.department_id
        and task.role == Responsibility.Role.LEAD
    )

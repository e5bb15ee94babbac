"""Who may see and do what with whistles.

Visibility is one queryset filter per role (`whistle_scope`), used by every
list; single objects are fetched through `access_whistle`, which applies the
same scope, so a list and a detail page can never disagree. A whistle outside
the scope is "not found" (404); one in scope that the role may not act on is
"not allowed" (403).
"""

import re

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from config.errors import NotAllowed, NotFound
from departments.models import Grade, Membership
from grids.models import Street
from whistle.models import JointMeeting, Task, Whistle

R = Membership.Role
Source = Whistle.Source

# Which sources each role may raise a whistle from.
SOURCES_BY_ROLE: dict[str, frozenset[str]] = {
    R.STREET_STAFF: frozenset({Source.STREET, Source.PARTY_OFFICE}),
    R.STREET_DEPUTY: frozenset({Source.STREET, Source.PARTY_OFFICE}),
    R.STREET_HEAD: frozenset({Source.STREET, Source.PARTY_OFFICE}),
    R.PARTY_OFFICE: frozenset({Source.PARTY_OFFICE}),
    R.DISPATCHER: frozenset({Source.STREET}),
    R.GRID_WORKER: frozenset({Source.GRID_WORKER}),
    R.HOTLINE_CLIENT: frozenset({Source.HOTLINE}),
}
# A difficult whistle summons a joint meeting: only the street's leadership raises one.
GRADES_BY_ROLE: dict[str, frozenset[str]] = {
    R.STREET_STAFF: frozenset({Grade.ORDINARY, Grade.PRIORITY}),
    R.DISPATCHER: frozenset({Grade.ORDINARY, Grade.PRIORITY}),
    R.GRID_WORKER: frozenset({Grade.ORDINARY, Grade.PRIORITY}),
    R.HOTLINE_CLIENT: frozenset({Grade.ORDINARY, Grade.PRIORITY}),
    R.STREET_DEPUTY: frozenset(Grade.values),
    R.STREET_HEAD: frozenset(Grade.values),
    R.PARTY_OFFICE: frozenset(Grade.values),
}
# Roles that see the caller's name and phone of hotline whistles unmasked.
SEES_CALLER = frozenset({R.HOTLINE_CLIENT, R.DISPATCHER, R.STREET_HEAD, R.SUPERVISOR})
MERGERS = frozenset({R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD, R.DISPATCHER})
# Who acts on a task for its department.
DEPARTMENT_ACTORS = frozenset({R.DEPT_STAFF, R.DEPT_HEAD})


def membership_of(user) -> Membership | None:
    """The user's membership, loaded once per user object."""
    if not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def role_of(user) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def whistle_scope(user, whistles: QuerySet[Whistle] | None = None) -> QuerySet[Whistle]:
    """The whistles (of `whistles`, default all) the user may see."""
    whistles = Whistle.objects.all() if whistles is None else whistles
    if user.is_superuser:
        return whistles
    membership = membership_of(user)
    if membership is None:
        return whistles.none()
    if membership.street_id:
        return whistles.filter(street_id=membership.street_id)
    if membership.department_id:
        summoned = Task.objects.filter(whistle=OuterRef("pk"), department_id=membership.department_id)
        return whistles.filter(Exists(summoned))
    if membership.role == R.SUPERVISOR:
        return whistles.filter(street__district_id=membership.district_id)
    if membership.role == R.HOTLINE_CLIENT:
        return whistles.filter(source=Source.HOTLINE, street__district_id=membership.district_id)
    return whistles.none()


def task_scope(user, tasks: QuerySet[Task] | None = None) -> QuerySet[Task]:
    """The tasks (of `tasks`, default all) the user may see.

    A department sees its own tasks and those granted to its members by
    object permission (django-guardian's `act_on_task`); a street the tasks of
    its whistles; a supervisor those of the district.
    """
    tasks = Task.objects.all() if tasks is None else tasks
    if user.is_superuser:
        return tasks
    membership = membership_of(user)
    if membership is None:
        return tasks.none()
    if membership.street_id:
        return tasks.filter(whistle__street_id=membership.street_id)
    if membership.department_id:
        # Grants go to department members only (a co-operating member on the lead's task, see
        # task_grant), and are few: read first as a list, and OR-ed in only when there are any.
        # An OR with the grants' subquery kept PostgreSQL from reading the department's tasks by
        # their index (it cast every task's id to text to compare it with guardian's object_pk).
        own = Q(department_id=membership.department_id)
        granted = _granted_task_ids(user, membership)
        return tasks.filter((own | Q(pk__in=granted)) if granted else own)
    if membership.role == R.SUPERVISOR:
        return in_district(tasks, "whistle__street_id", membership)
    return tasks.none()  # the hotline reads tasks only inside its whistles


def district_street_ids(membership: Membership) -> tuple[int, ...] | None:
    """The ids of the streets of the membership's district, to filter a supervisor's rows by; None for every street.

    A list, not a join: a join through the streets' table (a few rows, which
    autovacuum never analyzes) misleads PostgreSQL's planner on a million tasks.
    None when no street lies outside the district, as where a deployment
    serves one district (DESIGN.md): the filter would keep every row, and only
    evaluating it would cost, a join of every task, order or record to its
    whistle. One small query (every street's district), once per membership
    object (as membership_of loads the membership once per user object).
    """
    if not hasattr(membership, "_district_street_ids"):
        streets = list(Street.objects.order_by().values_list("pk", "district_id"))
        own = tuple(pk for pk, district_id in streets if district_id == membership.district_id)
        # Streets are made by the administrator before any whistle is raised in them; one made in
        # another district while this request runs has no whistle the next query could show.
        membership._district_street_ids = None if len(own) == len(streets) else own
    return membership._district_street_ids


def in_district(rows: QuerySet, street_lookup: str, membership: Membership) -> QuerySet:
    """`rows` whose street (reached by `street_lookup`, e.g. "whistle__street_id") is in the membership's district."""
    streets = district_street_ids(membership)
    return rows if streets is None else rows.filter(**{f"{street_lookup}__in": streets})


def _granted_task_ids(user, membership: Membership) -> tuple[int, ...]:
    """The ids of the tasks granted to the user with `act_on_task`, directly or through a group.

    The grants guardian's get_objects_for_user finds (object permissions only,
    no global ones), read from its tables as a list of ids: one query, once
    per membership object, as district_street_ids.
    """
    granted = getattr(membership, "_granted_task_ids", None)
    if granted is None:
        permission = {
            "permission__codename": "act_on_task",
            "permission__content_type__app_label": Task._meta.app_label,
            "permission__content_type__model": Task._meta.model_name,
        }
        direct = get_user_obj_perms_model(Task).objects.filter(user=user, **permission).order_by()
        via_groups = get_group_obj_perms_model(Task).objects.filter(group__user=user, **permission).order_by()
        pks = direct.values_list("object_pk", flat=True).union(via_groups.values_list("object_pk", flat=True))
        granted = tuple(sorted(int(pk) for pk in pks))
        membership._granted_task_ids = granted
    return granted


def access_task(user, task_id, *, queryset: QuerySet[Task] | None = None) -> Task:
    """The task with this id if the user may see it, else NotFound."""
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        task_id = None
    task = task_scope(user, queryset).filter(pk=task_id).first() if task_id else None
    if task is None:
        raise NotFound(_("Task %(id)s does not exist or is not visible to you.") % {"id": task_id or "—"})
    return task


def require_task_actor(user, task: Task) -> Membership | None:
    """Staff of the task's department, or someone granted `act_on_task` on it; else NotAllowed."""
    membership = membership_of(user)
    if membership and membership.department_id == task.department_id and membership.role in DEPARTMENT_ACTORS:
        return membership
    if user.is_authenticated and user.has_perm("whistle.act_on_task", task):
        return membership
    raise NotAllowed(_("Only %(department)s acts on this task.") % {"department": task.department})


def access_whistle(user, number: str, *, queryset: QuerySet[Whistle] | None = None) -> Whistle:
    """The whistle with this number if the user may see it, else NotFound."""
    whistle = whistle_scope(user, queryset).filter(number=number).first()
    if whistle is None:
        raise NotFound(_("Whistle %(number)s does not exist or is not visible to you.") % {"number": number})
    return whistle


def meeting_scope(user, meetings: QuerySet[JointMeeting] | None = None) -> QuerySet[JointMeeting]:
    """The joint meetings (of `meetings`, default all) of the whistles the user may see."""
    meetings = JointMeeting.objects.all() if meetings is None else meetings
    return meetings.filter(whistle__in=whistle_scope(user).values("pk"))


def access_meeting(user, meeting_id, *, queryset: QuerySet[JointMeeting] | None = None) -> JointMeeting:
    """The meeting with this id if the user may see its whistle, else NotFound."""
    try:
        meeting_id = int(meeting_id)
    except (TypeError, ValueError):
        meeting_id = None
    meeting = meeting_scope(user, queryset).filter(pk=meeting_id).first() if meeting_id else None
    if meeting is None:
        raise NotFound(_("Meeting %(id)s does not exist or is not visible to you.") % {"id": meeting_id or "—"})
    return meeting


def require_role(user, roles, *, street_id: int | None = None) -> Membership:
    """The user's membership if its role is one of `roles` (and of that street), else NotAllowed."""
    membership = membership_of(user)
    if membership is None or membership.role not in roles:
        raise NotAllowed()
    if street_id is not None and membership.street_id != street_id:
        raise NotAllowed(_("Only the whistle's own street may do this."))
    return membership


def sees_caller(user) -> bool:
    return user.is_superuser or role_of(user) in SEES_CALLER


def mask_name(name: str) -> str:
    """张女士 → 张**: the family name is enough to address the caller."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*" * len(name)


def mask_phone(phone: str) -> str:
    """138 0000 0000 → 138****0000: the usual masking of Chinese mobile numbers."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_email(email: str) -> str:
    """zhang.li@example.com → z*******@example.com: the domain says where, not who."""
    local, at, domain = email.partition("@")
    return (local[:1] + "*" * (len(local) - 1) + at + domain) if at else mask_name(email)

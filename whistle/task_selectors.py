"""Read queries over tasks for the department's task list, the task page and the API.

The stage that is due and its traffic light are SQL annotations (`stage`,
`stage_due_at`, `stage_warn_at`, `light`), so lists filter and sort on them
in the database: `?light=red` is a WHERE clause, not a loop.
"""

from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import NotAllowed, NotFound
from departments.models import Membership, Responsibility
from whistle.models import STAGE_DUE, Attachment, Event, Extension, Feedback, Task
from whistle.permissions import access_task, membership_of, require_task_actor, task_scope
from whistle.task_permissions import (
    extension_deciders_filter,
    extension_scope,
    is_dispatcher_of,
    is_lead_head,
    may_decide_extension,
)

T = Task.Status
GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = ((GREEN, "green"), (YELLOW, "yellow"), (RED, "red"))
# The stage due in each open status, and the deadline fields that time it.
STAGES = {
    T.PENDING: ("acknowledge", "acknowledge_due_at", "acknowledge_warn_at"),
    T.ACKNOWLEDGED: ("checkin", "checkin_due_at", "checkin_warn_at"),
    T.CHECKED_IN: ("resolve", "resolve_due_at", "resolve_warn_at"),
}
# What a task row shows of its whistle and department, in the query that loads it.
TASK_RELATIONS = ("whistle__street", "whistle__category", "department")


def with_stage(tasks: QuerySet[Task], *, now: datetime) -> QuerySet[Task]:
    """Annotate each task with its stage due, that stage's deadline and warning, and its light.

    Red once the deadline has passed, yellow once the warning has, green
    before; closed, returned and released tasks have no stage and no light ("").
    `past_due` (red) and `late` (yellow or red) say the same as booleans, for filters.
    """
    stage = Case(
        *[When(status=status, then=Value(name)) for status, (name, _due, _warn) in STAGES.items()],
        default=Value(""),
        output_field=CharField(),
    )
    due = STAGE_DUE  # the expression of the index task_stage_due_idx, so that ordering by it uses the index
    warn = Case(
        *[When(status=status, then=F(field)) for status, (_name, _due, field) in STAGES.items()],
        default=None,
        output_field=DateTimeField(),
    )
    red, yellow = light_conditions(now)
    light = Case(
        When(red, then=Value(RED)),
        When(yellow, then=Value(YELLOW)),
        When(status__in=Task.OPEN_STATUSES, then=Value(GREEN)),
        default=Value(""),
        output_field=CharField(),
    )
    # The same lights as plain column conditions, to filter on: PostgreSQL guesses a CASE compared
    # to a constant at 0.5 % of the rows, and with that guess sorts every open task for the first page
    # of late ones instead of reading them in order from task_stage_due_idx.
    past_due = ExpressionWrapper(red, output_field=BooleanField())
    late = ExpressionWrapper(red | yellow, output_field=BooleanField())
    return tasks.annotate(stage=stage, stage_due_at=due, stage_warn_at=warn, light=light, past_due=past_due, late=late)


def light_conditions(now: datetime) -> tuple[Q, Q]:
    """Red (the stage's deadline has passed) and yellow (its warning has) as conditions on the task's own columns."""
    red = Q()
    yellow = Q()
    for status, (_name, due_field, warn_field) in STAGES.items():
        red |= Q(status=status, **{f"{due_field}__lt": now})
        yellow |= Q(status=status, **{f"{warn_field}__lt": now})
    return red, yellow


def light_of(task: Task, *, now: datetime) -> str:
    """The same light as `with_stage`, for a task loaded without the annotation (a whistle's task table)."""
    if task.status not in STAGES:
        return ""
    _name, due_field, warn_field = STAGES[task.status]
    if getattr(task, due_field) < now:
        return RED
    if getattr(task, warn_field) < now:
        return YELLOW
    return GREEN


def task_list(*, user, now: datetime | None = None) -> QuerySet[Task]:
    """The tasks the user may see, nearest deadline first (finished ones last), ready for a list."""
    now = now or timezone.now()
    return (
        with_stage(task_scope(user), now=now)
        .select_related(*TASK_RELATIONS)
        .order_by(F("stage_due_at").asc(nulls_last=True), "-updated_at", "pk")
    )


def task_counts(tasks: QuerySet[Task], *, now: datetime | None = None) -> dict[str, int]:
    """How many of `tasks` are in each status and each light, and in all: two queries, whatever the rows.

    A count grouped by status (for a department read from the index on
    department and status alone), then the lights over the open tasks only,
    which the partial index task_stage_due_idx holds: finished tasks, most of
    them, have none. The lights are with_stage's as of `now` (default the
    present): give the list's own `now` when its page count is taken from here.
    """
    tasks = tasks.order_by()
    by_status = dict(tasks.values_list("status").annotate(n=Count("*")))
    counts = {status: by_status.get(status, 0) for status in T.values}
    counts["total"] = sum(by_status.values())
    red, yellow = light_conditions(now or timezone.now())
    lights = tasks.filter(status__in=Task.OPEN_STATUSES).aggregate(
        open=Count("pk"), red=Count("pk", filter=red), late=Count("pk", filter=red | yellow)
    )
    counts["light_red"] = lights["red"]
    counts["light_yellow"] = lights["late"] - lights["red"]
    counts["light_green"] = lights["open"] - lights["late"]
    return counts


def known_count(counts: dict[str, int], filters: dict) -> int | None:
    """The number of rows the list filtered by `filters` (cleaned) has, if task_counts tells it; else None.

    None filter, one status or one light only: the page count is one of the counts already made.
    """
    active = {name: value for name, value in filters.items() if value not in (None, "")}
    if not active:
        return counts["total"]
    if active.keys() == {"status"}:
        return counts.get(active["status"])
    if active.keys() == {"light"}:
        return counts.get(f"light_{active['light']}")
    return None


def _task_prefetches() -> tuple[Prefetch, ...]:
    return (
        Prefetch(
            "feedback",
            queryset=Feedback.objects.select_related("author").prefetch_related(
                Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
            ),
        ),
        Prefetch("extensions", queryset=Extension.objects.select_related("requested_by", "decided_by")),
        Prefetch("events", queryset=Event.objects.select_related("actor").order_by("created_at", "pk")),
    )


def task_get(*, user, task_id, now: datetime | None = None) -> Task:
    """One task with its stage and light, feedback, attachments, extensions and events; NotFound if not visible."""
    now = now or timezone.now()
    queryset = (
        with_stage(Task.objects.all(), now=now)
        .select_related(*TASK_RELATIONS, "whistle__street__district", "suggested_department")
        .prefetch_related(*_task_prefetches())
    )
    return access_task(user, task_id, queryset=queryset)


def task_actions(*, user, task: Task) -> set[str]:
    """What this viewer may do to the task now; the services check the same rules again.

    Names: acknowledge, check_in, progress, return, extension, close, release, grant.
    """
    if task.status not in Task.OPEN_STATUSES:
        return set()
    actions = set()
    if may_act_on(user, task):
        actions |= {"progress", "return", *NEXT_STEP[task.status]}
        if not any(e.status == Extension.Status.PENDING for e in task.extensions.all()):
            actions.add("extension")
    if task.role == Responsibility.Role.CO_OPERATING and is_dispatcher_of(user, task):
        actions.add("release")
    if is_lead_head(user, task):
        actions.add("grant")
    return actions


NEXT_STEP = {T.PENDING: ("acknowledge", "check_in"), T.ACKNOWLEDGED: ("check_in",), T.CHECKED_IN: ("close",)}


def may_act_on(user, task: Task) -> bool:
    try:
        require_task_actor(user, task)
    except NotAllowed:
        return False
    return True


def extension_decidable(*, user, task: Task) -> bool:
    return may_decide_extension(user, task)


def extensions_to_decide(*, user) -> QuerySet[Extension]:
    """The pending extension requests this user (street head, supervisor) may decide, oldest first."""
    decides = extension_deciders_filter(user)
    if decides is None:
        return Extension.objects.none()
    return (
        extension_scope(user)
        .filter(decides, status=Extension.Status.PENDING)
        .select_related("task__whistle__street", "task__department", "requested_by")
        .order_by("created_at", "pk")
    )


def attachment_get(*, user, attachment_id) -> Attachment:
    """An attachment whose task the user may see; NotFound otherwise (the same answer as for none)."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        pk = None
    attachment = Attachment.objects.select_related("feedback").filter(pk=pk).first() if pk else None
    if attachment is None or not task_scope(user).filter(pk=attachment.feedback.task_id).exists():
        raise NotFound(_("This file does not exist or is not visible to you."))
    return attachment


def sees_task_list(user) -> bool:
    """Whether the user's role has a task list at all: departments, streets and supervisors."""
    membership = membership_of(user)
    if user.is_superuser:
        return True
    return membership is not None and membership.role != Membership.Role.HOTLINE_CLIENT


def decides_extensions(user) -> bool:
    """Whether the user's role decides extension requests (a street head, a supervisor)."""
    return extension_deciders_filter(user) is not None


def task_event_labels() -> dict[str, str]:
    return {
        "acknowledged": _("acknowledged"),
        "checked_in": _("checked in"),
        "progress": _("progress note"),
        "extension_requested": _("extension requested"),
        "extension_approved": _("extension approved"),
        "extension_refused": _("extension refused"),
        "returned": _("returned"),
        "closed": _("closed"),
        "released": _("released by the dispatcher"),
        "granted": _("hand granted"),
    }


def task_timeline(task: Task) -> list[dict]:
    """The task's events for display; expects them prefetched with their actors (task_get)."""
    labels = task_event_labels()
    return [
        {
            "at": event.created_at,
            "label": labels.get(event.verb, event.verb),
            "actor": (event.actor.get_full_name() or event.actor.get_username()) if event.actor else event.system_actor,
            "reason": event.reason,
        }
        for event in task.events.all()
    ]


def may_open_task(user, task: Task) -> bool:
    """Whether the task page is open to the user, judged without a query (the whistle page's task table).

    The same rule as task_scope for the user's own unit; a task granted by
    object permission is reached from the task list instead.
    """
    if user.is_superuser:
        return True
    membership = membership_of(user)
    if membership is None:
        return False
    if membership.street_id:
        return membership.street_id == task.whistle.street_id
    if membership.department_id:
        return membership.department_id == task.department_id
    return membership.role == Membership.Role.SUPERVISOR


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file of an attachment the caller was allowed to see (attachment_get), photos inline, PDF as a download."""
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        filename=attachment.name,
    )
    # The type was checked by content at upload: the browser must not guess another one.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response

"""What a district's export holds: one section per model, in the order an import writes them.

Each section names the model, the district's rows of it, and how a row is
named in the file, since the file never holds database ids:

- `key`: fields whose values name the row (a code, a username, a whistle
  number; a task is its whistle's number and its department's code). A
  reference to such a row is those values.
- `parent`: for rows without a name of their own (events, feedback forms,
  meetings, supervision orders...), the fields of the row they belong to;
  a reference is the parent's values and the row's place among its
  siblings, counted from 1 in id order (["S01-2026-000003", 2] is that
  whistle's second event).

Every concrete field is written unless `fields` lists them, so a column
added later travels without a change here; a model added later that leads
to a district must be added here or to EXCLUDED (tests/backup/test_coverage.py
fails until it is). Many-to-many links of an exported model are sections of
their own, named "<model>.<field>", written after every model section.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from departments.models import Category, CategoryAttribute, Department, Membership, Responsibility
from escalation.models import (
    AccountabilityNote,
    AccountabilityRecord,
    EvaluationTally,
    EvaluationTallyMonth,
    EvaluationWeights,
    OpenTaskTally,
    ProblemTopic,
    SupervisionOrder,
)
from grids.models import Community, District, Grid, GridWorker, Street
from open311.models import ServiceRequestOrigin
from whistle.models import (
    Attachment,
    Callback,
    Event,
    Extension,
    Feedback,
    JointMeeting,
    MeetingAttendance,
    Notification,
    Rating,
    Task,
    Whistle,
    WhistleNumberSequence,
)

User = get_user_model()

Scope = Callable[[District], models.QuerySet]

# Ids that JSON fields carry — in an object, or in each object of a list — by their name there:
# the model they point to, and whether the value is the row's id or its displayed number (a
# supervision order's DB-2026-000012). The file holds the row's key instead; an id whose row is
# not in the district is written as null.
EVENT_IDS = {
    "meeting": (JointMeeting, "pk"),
    "extension": (Extension, "pk"),
    "feedback": (Feedback, "pk"),
    "order": (SupervisionOrder, "number"),
    "record": (AccountabilityRecord, "pk"),
    "topic": (ProblemTopic, "pk"),
}
# The routing explanation names the responsibility rule that chose each department.
ROUTING_IDS = {"rule": (Responsibility, "pk")}


@dataclass(frozen=True)
class Section:
    model: type[models.Model]
    # The district's rows; None for the users, who are the ones the other sections refer to.
    scope: Scope | None
    key: tuple[str, ...] = ()
    parent: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    # Shared between districts (users, the category catalogue): an import matches a row by its key
    # and leaves a row it finds as it is; it creates the missing ones.
    shared: bool = False
    # For a shared row that belongs to another (a category's attributes): created along with that
    # row, left out when that row was found already.
    owner: str = ""
    # Self-references, set once every row of the section exists.
    deferred: tuple[str, ...] = ()
    # Export: of a section named by `parent`, only these rows are referred to (by id), so only
    # their names are kept in memory; None keeps every row's.
    referenced: Scope | None = None
    # Ids inside JSON fields, by field: see JSON_IDS.
    json_ids: dict[str, dict[str, tuple[type[models.Model], str]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def concrete_fields(self) -> list[models.Field]:
        opts = self.model._meta
        if self.fields is not None:
            return [opts.get_field(name) for name in self.fields]
        return [field for field in opts.concrete_fields if not field.primary_key]


def _filter(model, path: str) -> Scope:
    """The rows of `model` whose `path` leads to the district."""
    return lambda district: model.objects.filter(**{path: district})


def _grid_workers(district: District) -> models.QuerySet:
    return GridWorker.objects.filter(
        Q(user__membership__street__district=district) | Q(grids__community__street__district=district)
    ).distinct()


def _memberships(district: District) -> models.QuerySet:
    return Membership.objects.filter(
        Q(street__district=district) | Q(department__district=district) | Q(district=district)
    )


def _referenced_events(district: District) -> models.QuerySet:
    through = AccountabilityRecord.events.through
    return through.objects.filter(accountabilityrecord__whistle__street__district=district).values_list(
        "event_id", flat=True
    )


# The order of writing: every section after the ones its rows refer to (self-references deferred).
SECTIONS: tuple[Section, ...] = (
    Section(
        User,
        scope=None,
        key=("username",),
        # Who the person is and how they sign in; staff and superuser rights, groups and model
        # permissions belong to the installation and are not moved.
        fields=("username", "first_name", "last_name", "email", "password", "is_active", "date_joined"),
        shared=True,
    ),
    Section(Category, scope=lambda district: Category.objects.all(), key=("code",), shared=True, deferred=("parent",)),
    Section(
        CategoryAttribute,
        scope=lambda district: CategoryAttribute.objects.all(),
        key=("category", "code"),
        shared=True,
        owner="category",
    ),
    Section(District, scope=lambda district: District.objects.filter(pk=district.pk), key=("code",)),
    Section(Street, scope=_filter(Street, "district"), key=("code",)),
    Section(Community, scope=_filter(Community, "street__district"), key=("code",)),
    Section(Grid, scope=_filter(Grid, "community__street__district"), key=("code",)),
    Section(Department, scope=_filter(Department, "district"), key=("code",), deferred=("parent",)),
    Section(
        Responsibility,
        scope=_filter(Responsibility, "department__district"),
        parent=("category", "department", "role"),
    ),
    Section(Membership, scope=_memberships, key=("user",)),
    Section(GridWorker, scope=_grid_workers, key=("user",)),
    Section(WhistleNumberSequence, scope=_filter(WhistleNumberSequence, "street__district"), key=("street", "year")),
    Section(
        Whistle,
        scope=_filter(Whistle, "street__district"),
        key=("number",),
        deferred=("merged_into",),
        json_ids={"routing": ROUTING_IDS},
    ),
    Section(ServiceRequestOrigin, scope=_filter(ServiceRequestOrigin, "whistle__street__district"), key=("whistle",)),
    Section(Task, scope=_filter(Task, "whistle__street__district"), key=("whistle", "department")),
    Section(Feedback, scope=_filter(Feedback, "task__whistle__street__district"), parent=("task",)),
    Section(Attachment, scope=_filter(Attachment, "feedback__task__whistle__street__district")),
    Section(Extension, scope=_filter(Extension, "task__whistle__street__district"), parent=("task",)),
    Section(Rating, scope=_filter(Rating, "whistle__street__district")),
    Section(Callback, scope=_filter(Callback, "whistle__street__district")),
    Section(JointMeeting, scope=_filter(JointMeeting, "whistle__street__district"), parent=("whistle",)),
    Section(MeetingAttendance, scope=_filter(MeetingAttendance, "meeting__whistle__street__district")),
    Section(SupervisionOrder, scope=_filter(SupervisionOrder, "task__whistle__street__district"), parent=("task",)),
    Section(
        AccountabilityRecord, scope=_filter(AccountabilityRecord, "whistle__street__district"), parent=("whistle",)
    ),
    Section(AccountabilityNote, scope=_filter(AccountabilityNote, "record__whistle__street__district")),
    Section(ProblemTopic, scope=_filter(ProblemTopic, "district"), parent=("district",)),
    # After the rows its entries mention by id (meetings, extensions, feedback, orders, records, topics).
    Section(
        Event,
        scope=_filter(Event, "whistle__street__district"),
        parent=("whistle",),
        referenced=_referenced_events,
        json_ids={"old": EVENT_IDS, "new": EVENT_IDS},
    ),
    Section(Notification, scope=_filter(Notification, "whistle__street__district")),
    Section(EvaluationWeights, scope=_filter(EvaluationWeights, "district"), key=("district",)),
    Section(OpenTaskTally, scope=_filter(OpenTaskTally, "district")),
    Section(EvaluationTally, scope=_filter(EvaluationTally, "district")),
    Section(EvaluationTallyMonth, scope=_filter(EvaluationTallyMonth, "district"), key=("district", "month")),
)

SECTION_OF: dict[type[models.Model], Section] = {section.model: section for section in SECTIONS}

# django-guardian's object permissions on the district's rows (granted on tasks by
# whistle.services.task_grant): written as their own sections, the object named by its key.
OBJECT_PERMISSION_SECTIONS = ("guardian.userobjectpermission", "guardian.groupobjectpermission")

# Many-to-many fields of exported models that are not moved.
EXCLUDED_LINKS = {
    "auth.user.groups": "Groups belong to the installation, like the staff and superuser rights.",
    "auth.user.user_permissions": "Model permissions belong to the installation, like the staff and superuser rights.",
}

# Models that are not exported, and why. Every model of the domain apps, django.contrib.auth and
# guardian, and every model with a path of foreign keys to District, is in SECTIONS or here.
EXCLUDED = {
    "grids.gridindexversion": "A cache stamp; the import renews it so that every process reloads the grids.",
    "departments.catalogueversion": "A cache stamp; the import renews it so that every process reloads the catalogue.",
    "escalation.calendarversion": "A cache stamp of the calendar, which an import does not change.",
    "escalation.workcalendarday": "The work calendar is the installation's, not a district's.",
    "escalation.workcalendaryear": "The work calendar is the installation's, not a district's.",
    "escalation.workschedule": "The working hours are the installation's, not a district's.",
    "escalation.slapolicy": "Deadline policies are the installation's (per grade); copied deadlines are kept as they were.",
    "whistle.doorbell": "Run-time markers of the installation's background runs, not data.",
    "auth.group": "Groups belong to the installation; object permissions of groups carry the group's name.",
    "auth.permission": "Created by migrations in every installation; object permissions name them by codename.",
    "contenttypes.contenttype": "Created by migrations in every installation; object permissions name the model.",
    "admin.logentry": "The admin's own log of the installation.",
    "sessions.session": "Sign-ins of this installation: users sign in again on the other.",
    "authtoken.token": "API tokens are secrets of this installation: issue new ones with issue_token.",
    "authtoken.tokenproxy": "A proxy of authtoken.Token.",
    "idempotency.idempotencykey": "Short-lived answers kept for repeated API requests of this installation.",
    "axes.accessattempt": "Sign-in attempts on this installation.",
    "axes.accessattemptexpiration": "Sign-in attempts on this installation.",
    "axes.accesslog": "Sign-in log of this installation.",
    "axes.accessfailurelog": "Sign-in log of this installation.",
}

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Category, Department, Grade, Responsibility
from grids.models import Community, Grid, Street

DESCRIPTION_MAX_LENGTH = 4000


class Whistle(models.Model):
    """A case (吹哨事项): raised by a street, the party-building office, the hotline or a grid worker."""

    class Source(models.TextChoices):
        STREET = "street", _("street")
        PARTY_OFFICE = "party_office", _("party-building office")
        HOTLINE = "hotline", _("12345 hotline")
        GRID_WORKER = "grid_worker", _("grid worker report")

    class Mode(models.TextChoices):
        REGULAR = "regular", _("regular")
        QUICK = "quick", _("quick (heads summoned directly)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_SIGNATURE = "awaiting_signature", _("awaiting the deputy's signature")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting the head's approval")
        APPROVED = "approved", _("approved, awaiting issue")
        SUBMITTED = "submitted", _("submitted, being routed")
        AWAITING_DISPATCH = "awaiting_dispatch", _("awaiting manual dispatch")
        ROUTED = "routed", _("routed to departments")
        RESOLVED = "resolved", _("resolved, awaiting confirmation")
        CLOSED = "closed", _("closed")
        MERGED = "merged", _("merged into another whistle")

    OPEN_STATUSES = (
        Status.SUBMITTED,
        Status.AWAITING_DISPATCH,
        Status.ROUTED,
        Status.RESOLVED,
    )

    number = models.CharField(_("number"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="whistles", verbose_name=_("category")
    )
    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.REGULAR)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="whistles", verbose_name=_("street"))
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, related_name="whistles", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="whistles", verbose_name=_("grid")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_whistles", verbose_name=_("reporter")
    )
    caller_name = models.CharField(_("caller's name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=32, blank=True)
    # Database defaults too, so that bulk writers naming only the older columns (COPY) still fit.
    caller_email = models.EmailField(_("caller's e-mail"), max_length=254, blank=True, db_default="")
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        blank=True,
        help_text=_("The submitting system's own id, e.g. the hotline's work-order number."),
    )
    appointed_checkin_at = models.DateTimeField(_("appointed check-in time"), null=True, blank=True)
    attributes = models.JSONField(
        _("attributes"),
        default=dict,
        db_default=Value({}, output_field=models.JSONField()),
        blank=True,
        help_text=_("Answers to the category's attribute questions, by attribute code."),
    )
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    routing = models.JSONField(
        _("routing explanation"),
        default=list,
        blank=True,
        help_text=_("Which rule chose each department, and why."),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    returns = models.PositiveIntegerField(
        _("returns"), default=0, help_text=_("How many times departments returned this whistle.")
    )
    reopens = models.PositiveIntegerField(
        _("reopens"), default=0, help_text=_("How many times the street or a citizen's callback reopened it.")
    )
    escalated_at = models.DateTimeField(
        _("escalated to supervisors at"),
        null=True,
        blank=True,
        help_text=_("Set when a citizen was dissatisfied again after a reopening."),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="whistle_unique_external_id",
                violation_error_message=_("A whistle with this external id already exists for this source."),
            ),
            models.CheckConstraint(
                condition=Q(lon__isnull=True, lat__isnull=True)
                | Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="whistle_coordinates_in_range",
            ),
        ]
        indexes = [
            # The re-enqueue job looks for whistles the broker never delivered.
            models.Index(fields=["submitted_at"], name="whistle_submitted_idx", condition=Q(status="submitted")),
            models.Index(fields=["category", "created_at"], name="whistle_category_created_idx"),
            models.Index(fields=["street", "status"], name="whistle_street_status_idx"),
            # Every whistle list is newest first (whistle.selectors.whistle_list): a page reads 50 rows of
            # this index instead of sorting every whistle in the user's scope.
            models.Index(fields=["created_at", "id"], name="whistle_newest_first_idx"),
            # The sweep looks for buck-passing (returned three times) every minute: only those rows.
            models.Index(fields=["returns"], name="whistle_returned_often_idx", condition=Q(returns__gte=3)),
            # Whistles raised or closed in a window of time: the supervisor's daily trend
            # (workbench.selectors.daily_trend) and the evaluation's statistics and resolution rate
            # (escalation.statistics, escalation.evaluation). Each is a range of the moment; the columns
            # they group or filter by ride along (INCLUDE, PostgreSQL), so the counts read the index
            # alone, never the wide rows. SQLite ignores INCLUDE.
            models.Index(
                fields=["submitted_at"],
                include=[
                    "street",
                    "community",
                    "grid",
                    "category",
                    "source",
                    "grade",
                    "merged_into",
                    "reporter",
                    "routed_at",
                ],
                name="whistle_submitted_cover_idx",
            ),
            models.Index(
                fields=["closed_at"],
                include=["id", "street", "merged_into", "source", "reporter"],
                condition=Q(closed_at__isnull=False),
                name="whistle_closed_cover_idx",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class Doorbell(models.Model):
    """A named bell, rung when a background run (routing, mail) has been called for and has not started yet.

    A change rings it and sends the run's message only when the bell was
    silent, so a burst of changes sends a few messages, not one each; the run
    silences it before it looks for work, so work stored after the look rings
    again. A bell rung longer than whistle.services.doorbell.STALE (its
    message lost with a broker's memory) may be rung again.
    """

    ROUTING, MAIL = "routing", "mail"

    name = models.CharField(_("name"), max_length=32, unique=True)
    rung_at = models.DateTimeField(_("rung at"), null=True, blank=True)

    class Meta:
        verbose_name = _("doorbell")
        verbose_name_plural = _("doorbells")

    def __str__(self):
        return f"{self.name} {self.rung_at or '-'}"


class WhistleNumberSequence(models.Model):
    """The last number given to a whistle of a street in a year (S01-2026-000123)."""

    street = models.ForeignKey(Street, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="whistle_number_sequence_unique")]

    def __str__(self):
        return f"{self.street_id}-{self.year}: {self.last}"


# The deadline of the stage a task is at, by its status (whistle.task_selectors.with_stage);
# one expression for the queries and the index that serves their ordering.
STAGE_DUE = models.Case(
    models.When(status="pending", then=models.F("acknowledge_due_at")),
    models.When(status="acknowledged", then=models.F("checkin_due_at")),
    models.When(status="checked_in", then=models.F("resolve_due_at")),
    default=None,
    output_field=models.DateTimeField(),
)


class Task(models.Model):
    """One department's part of a whistle (报到任务)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CHECKED_IN = "checked_in", _("checked in")
        CLOSED = "closed", _("closed")
        RETURNED = "returned", _("returned")
        RELEASED = "released", _("released by the dispatcher")

    class ReturnReason(models.TextChoices):
        NOT_OURS = "not_ours", _("not our responsibility")
        WRONG_LOCATION = "wrong_location", _("wrong location")
        DUPLICATE = "duplicate", _("duplicate")
        NEEDS_OTHER = "needs_other_department", _("needs another department")
        OTHER = "other", _("other")

    OPEN_STATUSES = (Status.PENDING, Status.ACKNOWLEDGED, Status.CHECKED_IN)

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("whistle"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=16, choices=Responsibility.Role.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"))
    checkin_due_at = models.DateTimeField(_("check in by"))
    resolve_due_at = models.DateTimeField(_("resolve by"))
    acknowledge_warn_at = models.DateTimeField(_("acknowledgement warning at"))
    checkin_warn_at = models.DateTimeField(_("check-in warning at"))
    resolve_warn_at = models.DateTimeField(_("resolution warning at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checkin_lon = models.FloatField(_("check-in longitude"), null=True, blank=True)
    checkin_lat = models.FloatField(_("check-in latitude"), null=True, blank=True)
    checkin_note = models.TextField(_("check-in note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason_code = models.CharField(_("return reason"), max_length=32, choices=ReturnReason.choices, blank=True)
    return_reason = models.TextField(_("return explanation"), blank=True)
    suggested_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suggested department"),
    )
    # Frozen when each stage finishes, for statistics: never recomputed from today's state.
    acknowledged_on_time = models.BooleanField(_("acknowledged on time"), null=True, blank=True)
    checked_in_on_time = models.BooleanField(_("checked in on time"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    # The escalation ladder: when each step fired, once per task (stage warnings and
    # overdues once per stage round), and the next step due, for the sweep's index.
    acknowledge_warned_at = models.DateTimeField(_("acknowledgement warning sent at"), null=True, blank=True)
    acknowledge_overdue_at = models.DateTimeField(_("acknowledgement overdue since"), null=True, blank=True)
    checkin_warned_at = models.DateTimeField(_("check-in warning sent at"), null=True, blank=True)
    checkin_overdue_at = models.DateTimeField(_("check-in overdue since"), null=True, blank=True)
    resolve_warned_at = models.DateTimeField(_("resolution warning sent at"), null=True, blank=True)
    resolve_overdue_at = models.DateTimeField(_("resolution overdue since"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("supervision order issued at"), null=True, blank=True)
    accountable_at = models.DateTimeField(_("accountability recorded at"), null=True, blank=True)
    next_deadline_at = models.DateTimeField(_("next step due at"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["resolve_due_at"]
        constraints = [
            # Routing twice, or two routers at once, can never summon a department twice.
            models.UniqueConstraint(fields=["whistle", "department"], name="task_unique_department_per_whistle"),
        ]
        indexes = [
            models.Index(fields=["department", "status"], name="task_department_status_idx"),
            # Late tasks oldest deadline first (the overdue dashboard), open tasks only.
            models.Index(
                STAGE_DUE,
                name="task_stage_due_idx",
                condition=Q(status__in=["pending", "acknowledged", "checked_in"]),
            ),
            # The task list's order (whistle.task_selectors.task_list): open tasks by the deadline of their
            # stage, then finished ones; a page reads 50 rows of it instead of sorting every task in scope.
            # (Ascending is NULLS LAST in PostgreSQL already; SQLite refuses the words in an index.)
            models.Index(STAGE_DUE, models.F("updated_at").desc(), models.F("id"), name="task_list_order_idx"),
            # The sweep's way in: only tasks with a step still to come are in it.
            models.Index(
                fields=["next_deadline_at"], name="task_next_deadline_idx", condition=Q(next_deadline_at__isnull=False)
            ),
            # Tasks gone overdue per day (workbench.selectors.daily_trend): a range of each stage's
            # overdue mark, over the few tasks that have one.
            models.Index(
                fields=["acknowledge_overdue_at"],
                name="task_acknowledge_overdue_idx",
                condition=Q(acknowledge_overdue_at__isnull=False),
            ),
            models.Index(
                fields=["checkin_overdue_at"],
                name="task_checkin_overdue_idx",
                condition=Q(checkin_overdue_at__isnull=False),
            ),
            models.Index(
                fields=["resolve_overdue_at"],
                name="task_resolve_overdue_idx",
                condition=Q(resolve_overdue_at__isnull=False),
            ),
            # The response rate (escalation.evaluation.fact_counts): the tasks whose acknowledgement fell
            # due in a period, with what the count needs beside the deadline (index-only on PostgreSQL).
            models.Index(
                fields=["acknowledge_due_at"],
                include=["department", "acknowledged_on_time", "status", "returned_at", "updated_at", "whistle"],
                name="task_ack_due_idx",
            ),
            # Tasks closed in a period, on time or not (escalation.evaluation.department_figures,
            # the grid workers' timeliness).
            models.Index(
                fields=["closed_at"],
                include=["department", "closed_on_time", "whistle"],
                condition=Q(status="closed"),
                name="task_closed_idx",
            ),
            # Tasks returned in a period: few of them.
            models.Index(fields=["returned_at"], condition=Q(returned_at__isnull=False), name="task_returned_idx"),
        ]
        # Granted per task with django-guardian, to someone outside the task's department
        # (a co-operating department's head on the lead's task, say).
        permissions = [("act_on_task", _("Can act on this task for its department"))]

    def __str__(self):
        return f"{self.whistle.number} · {self.department}"


class Event(models.Model):
    """Append-only audit entry: who did what to which whistle or task, when and why."""

    # Events and notifications are logs, written at city scale (a sweep writes
    # thousands a minute) in the transaction that changes the row they name, which
    # it holds locked: they carry no database-level foreign keys to whistles and
    # tasks, whose checks at commit would cost as much as the writes themselves.
    # The ORM still cascades a deletion.
    whistle = models.ForeignKey(
        Whistle, on_delete=models.CASCADE, related_name="events", verbose_name=_("whistle"), db_constraint=False
    )
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("task"),
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,  # event_actor_idx: most events of a busy day are the platform's own
    )
    system_actor = models.CharField(
        _("system actor"),
        max_length=32,
        blank=True,
        help_text=_("Set when the platform itself acted (router, sweeper)."),
    )
    verb = models.CharField(_("action"), max_length=32)
    reason = models.TextField(_("reason"), blank=True)
    old = models.JSONField(_("before"), null=True, blank=True)
    new = models.JSONField(_("after"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | ~Q(system_actor=""),
                name="event_has_an_actor",
            ),
        ]
        indexes = [models.Index(fields=["actor"], name="event_actor_idx", condition=Q(actor__isnull=False))]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb}"


class Notification(models.Model):
    """An inbox entry for an org unit (a department summoned, a street's dispatcher asked to act) or for one user."""

    # A log like Event: no database-level foreign keys (see there), and each
    # addressee indexed only over the rows addressed to it (indexes below).
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("department"),
        db_constraint=False,
        db_index=False,
    )
    street = models.ForeignKey(
        Street,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("street"),
        db_constraint=False,
        db_index=False,
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
        help_text=_("For a notice to one person (a supervisor, a department head) rather than a whole unit."),
        db_constraint=False,
        db_index=False,
    )
    whistle = models.ForeignKey(
        Whistle, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("whistle"), db_constraint=False
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications", db_constraint=False
    )
    verb = models.CharField(_("about"), max_length=32)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set for a notice worth an e-mail; the mail run claims it (conditional UPDATE to False) before sending.
    mail_due = models.BooleanField(_("e-mail due"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False, street__isnull=True, recipient__isnull=True)
                | Q(department__isnull=True, street__isnull=False, recipient__isnull=True)
                | Q(department__isnull=True, street__isnull=True, recipient__isnull=False),
                name="notification_for_one_addressee",
            ),
        ]
        indexes = [
            *(
                models.Index(fields=[addressee, "created_at"], name=f"notification_{short}{unread}_idx", condition=when)
                for addressee, short in (("department", "dept"), ("street", "street"), ("recipient", "person"))
                for unread, when in (
                    ("", Q(**{f"{addressee}__isnull": False})),
                    ("_unread", Q(**{f"{addressee}__isnull": False}, read_at=None)),
                )
            ),
            models.Index(fields=["created_at"], name="notification_mail_due_idx", condition=Q(mail_due=True)),
        ]

    def __str__(self):
        return f"{self.verb} {self.whistle_id}"


def private_storage():
    """Attachments live outside the public media path; only an access-checked view serves them."""
    from django.core.files.storage import storages

    return storages["private"]


class Feedback(models.Model):
    """The feedback form (反馈表) a department files when it closes its task; a reopened task gets another."""

    class Result(models.TextChoices):
        SOLVED = "solved", _("solved")
        PARTLY_SOLVED = "partly_solved", _("partly solved")
        UNSOLVABLE = "unsolvable", _("unsolvable")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("task"))
    actions = models.TextField(_("actions taken"), max_length=DESCRIPTION_MAX_LENGTH)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    note = models.TextField(_("note"), blank=True, help_text=_("Required when the matter is unsolvable: why."))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("feedback form")
        verbose_name_plural = _("feedback forms")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.task} · {self.get_result_display()}"


class Attachment(models.Model):
    """A photo or PDF filed with a feedback form."""

    feedback = models.ForeignKey(
        Feedback, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("feedback form")
    )
    file = models.FileField(_("file"), storage=private_storage, upload_to="attachments/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class Extension(models.Model):
    """A department's request for more time to resolve (延期申请), decided by the street head or a supervisor."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a decision")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("task"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    reason = models.TextField(_("reason"))
    until = models.DateTimeField(_("proposed resolve-by date"))
    previous_due_at = models.DateTimeField(_("resolve-by date before"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(status="pending"), name="extension_one_pending_per_task"
            ),
        ]

    def __str__(self):
        return f"{self.task} → {self.until:%Y-%m-%d}"


class Rating(models.Model):
    """The street's rating of a department that reported in (下对上), 1–5 on three counts."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("whistle"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("department")
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("rated by")
    )
    response = models.PositiveSmallIntegerField(_("response"))
    attitude = models.PositiveSmallIntegerField(_("attitude"))
    result = models.PositiveSmallIntegerField(_("result"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["created_at", "pk"]
        # The streets' ratings of a period (escalation.evaluation.department_figures).
        indexes = [models.Index(fields=["created_at"], name="rating_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="rating_once_per_department"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}), name=f"rating_{name}_1_to_5"
                )
                for name in ("response", "attitude", "result")
            ),
        ]

    def __str__(self):
        return f"{self.whistle.number} · {self.department}"


class Callback(models.Model):
    """The citizen's verdict after confirmation (回访), recorded by the hotline or the street."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
        DISSATISFIED = "dissatisfied", _("dissatisfied")

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="callbacks", verbose_name=_("whistle"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    satisfaction = models.CharField(_("satisfaction"), max_length=24, choices=Satisfaction.choices)
    solved = models.BooleanField(_("solved"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("citizen callback")
        verbose_name_plural = _("citizen callbacks")
        ordering = ["created_at", "pk"]
        # The callbacks of a period (the satisfaction rate, escalation.evaluation.latest_callbacks).
        indexes = [models.Index(fields=["created_at"], name="callback_created_idx")]

    def __str__(self):
        return f"{self.whistle.number} · {self.get_satisfaction_display()}"


class JointMeeting(models.Model):
    """The on-site meeting of every department summoned for a difficult whistle (吹哨会)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("whistle"))
    scheduled_at = models.DateTimeField(_("time"))
    place = models.CharField(_("place"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheduled by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)

    class Meta:
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        ordering = ["scheduled_at", "pk"]
        # Meetings held in a period (the departments' absences, escalation.evaluation.department_figures).
        indexes = [
            models.Index(fields=["held_at"], condition=Q(held_at__isnull=False), name="meeting_held_idx"),
        ]

    def __str__(self):
        return f"{self.whistle.number} · {self.scheduled_at:%Y-%m-%d %H:%M}"


class MeetingAttendance(models.Model):
    """Whether a summoned department came to the joint meeting; an absence counts against it."""

    class Status(models.TextChoices):
        INVITED = "invited", _("invited")
        PRESENT = "present", _("present")
        LATE = "late", _("late")
        ABSENT = "absent", _("absent")

    meeting = models.ForeignKey(
        JointMeeting, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("meeting")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="meeting_attendance", verbose_name=_("department")
    )
    status = models.CharField(_("attendance"), max_length=16, choices=Status.choices, default=Status.INVITED)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )

    class Meta:
        verbose_name = _("meeting attendance")
        verbose_name_plural = _("meeting attendance")
        ordering = ["department__code"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "department"], name="attendance_once_per_department"),
        ]

    def __str__(self):
        return f"{self.meeting} · {self.department} · {self.get_status_display()}"

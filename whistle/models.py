from django.conf import settings
from django.db import models
from django.db.models import Q
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
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        blank=True,
        help_text=_("The submitting system's own id, e.g. the hotline's work-order number."),
    )
    appointed_checkin_at = models.DateTimeField(_("appointed check-in time"), null=True, blank=True)
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
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class RoutingDoorbell(models.Model):
    """One row: rung when a routing run has been called for and has not started yet.

    A submit rings it and sends a routing message only when it was silent,
    so a burst of submits sends a few messages, not one per whistle; the run
    silences it before it looks for waiting whistles, so a whistle stored
    after the look rings again. A bell rung longer than DOORBELL_STALE (its
    message lost with a broker's memory) may be rung again.
    """

    rung_at = models.DateTimeField(_("rung at"), null=True, blank=True)

    class Meta:
        verbose_name = _("routing doorbell")
        verbose_name_plural = _("routing doorbell")

    def __str__(self):
        return f"{self.rung_at or '-'}"


class WhistleNumberSequence(models.Model):
    """The last number given to a whistle of a street in a year (S01-2026-000123)."""

    street = models.ForeignKey(Street, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="whistle_number_sequence_unique")]

    def __str__(self):
        return f"{self.street_id}-{self.year}: {self.last}"


class Task(models.Model):
    """One department's part of a whistle (报到任务)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CHECKED_IN = "checked_in", _("checked in")
        CLOSED = "closed", _("closed")
        RETURNED = "returned", _("returned")
        RELEASED = "released", _("released by the dispatcher")

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
        indexes = [models.Index(fields=["department", "status"], name="task_department_status_idx")]

    def __str__(self):
        return f"{self.whistle.number} · {self.department}"


class Event(models.Model):
    """Append-only audit entry: who did what to which whistle or task, when and why."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="events", verbose_name=_("whistle"))
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("task")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
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

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb}"


class Notification(models.Model):
    """An inbox entry for an org unit: a department summoned, a street's dispatcher asked to act."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("department"),
    )
    street = models.ForeignKey(
        Street, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications", verbose_name=_("street")
    )
    whistle = models.ForeignKey(
        Whistle, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("whistle")
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    verb = models.CharField(_("about"), max_length=32)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False, street__isnull=True)
                | Q(department__isnull=True, street__isnull=False),
                name="notification_for_one_unit",
            ),
        ]
        indexes = [
            models.Index(
                fields=["department", "created_at"], name="notification_dept_unread_idx", condition=Q(read_at=None)
            ),
            models.Index(
                fields=["street", "created_at"], name="notification_street_unread_idx", condition=Q(read_at=None)
            ),
        ]

    def __str__(self):
        return f"{self.verb} {self.whistle_id}"

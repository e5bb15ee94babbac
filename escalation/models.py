"""Work calendar, working hours and deadline policies (时限).

The arithmetic over them lives in escalation.policy; these models hold the
editable figures and the rules a single row can check by itself.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Grade

# No window may reach further than this many days (about ten years): a typo of
# a few zeros must fail loudly rather than produce a deadline in the year 2300.
MAX_WINDOW_DAYS = 3660


class WindowUnit(models.TextChoices):
    MINUTES = "minutes", _("clock minutes")
    HOURS = "hours", _("clock hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


# The largest amount of each unit. Working hours are capped at 24 a day here;
# deadline() also refuses a working-hours window longer than MAX_WINDOW_DAYS
# working days under the configured working hours.
MAX_WINDOW_AMOUNT = {
    WindowUnit.MINUTES: MAX_WINDOW_DAYS * 24 * 60,
    WindowUnit.HOURS: MAX_WINDOW_DAYS * 24,
    WindowUnit.WORKING_HOURS: MAX_WINDOW_DAYS * 24,
    WindowUnit.WORKING_DAYS: MAX_WINDOW_DAYS,
}


class WorkCalendarDay(models.Model):
    """A date that differs from the Monday-to-Friday default.

    A public holiday on a weekday is a row with is_working_day False; an
    adjusted working day (调休) on a Saturday or Sunday is a row with True.
    Dates that follow the default have no row.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinese-calendar package")
        ADMINISTRATOR = "administrator", _("entered by an administrator")

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"),
        help_text=_("Unticked: a public holiday on a weekday. Ticked: an adjusted working day on a weekend."),
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("E.g. Spring Festival, National Day (adjusted working day).")
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.ADMINISTRATOR)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("work calendar day")
        verbose_name_plural = _("work calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["package", "administrator"]),
                name="workcalendarday_source_valid",
                violation_error_message=_("The source must be the chinese-calendar package or an administrator."),
            ),
        ]

    def __str__(self):
        kind = _("working day") if self.is_working_day else _("holiday")
        return f"{self.date:%Y-%m-%d} · {self.name or kind}"

    def clean(self):
        super().clean()
        if self.date is None or self.is_working_day is None:
            return
        weekday = self.date.weekday() < 5
        if self.is_working_day and weekday:
            raise ValidationError(
                {
                    "is_working_day": _(
                        "%(date)s is a weekday, which is a working day anyway: enter only the dates that differ from "
                        "Monday to Friday (a holiday on a weekday, or a working Saturday or Sunday)."
                    )
                    % {"date": self.date.isoformat()}
                }
            )
        if not self.is_working_day and not weekday:
            raise ValidationError(
                {
                    "is_working_day": _(
                        "%(date)s is a Saturday or Sunday, which is a rest day anyway: enter only the dates that differ "
                        "from Monday to Friday (a holiday on a weekday, or a working Saturday or Sunday)."
                    )
                    % {"date": self.date.isoformat()}
                }
            )


class WorkCalendarYear(models.Model):
    """Whether a year's public holidays and adjusted working days are all entered.

    A year without a complete row counts Monday to Friday, and administrators
    and supervisors are told so on every page.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    complete = models.BooleanField(
        _("complete"),
        default=False,
        help_text=_("Tick once every public holiday and adjusted working day of the year is entered."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("work calendar year")
        verbose_name_plural = _("work calendar years")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="workcalendaryear_year_in_range",
                violation_error_message=_("The year must be between 2000 and 2100."),
            ),
        ]

    def __str__(self):
        return str(self.year)

    def clean(self):
        super().clean()
        if self.year is not None and not 2000 <= self.year <= 2100:
            raise ValidationError({"year": _("The year must be between 2000 and 2100.")})


class WorkSchedule(models.Model):
    """The working hours of every working day, in local time (settings.TIME_ZONE). One row."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    day_start = models.TimeField(_("working day starts"), default=datetime.time(8, 30))
    day_end = models.TimeField(_("working day ends"), default=datetime.time(17, 30))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="workschedule_single_row",
                violation_error_message=_("There is only one set of working hours."),
            ),
            models.CheckConstraint(
                condition=Q(day_start__lt=F("day_end")),
                name="workschedule_start_before_end",
                violation_error_message=_("The working day must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.day_start:%H:%M}–{self.day_end:%H:%M}"

    def clean(self):
        super().clean()
        if self.day_start is not None and self.day_end is not None and self.day_start >= self.day_end:
            raise ValidationError(
                {
                    "day_end": _("The working day must end after it starts (%(start)s).")
                    % {
                        "start": self.day_start.strftime("%H:%M"),
                    }
                }
            )


STAGES = ("acknowledge", "checkin", "resolve")


class SlaPolicy(models.Model):
    """The deadlines of one grade: acknowledge (签收), check in (报到), resolve (办结)."""

    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices, unique=True)
    acknowledge_amount = models.PositiveIntegerField(_("acknowledge within"))
    acknowledge_unit = models.CharField(_("acknowledge unit"), max_length=16, choices=WindowUnit.choices)
    checkin_amount = models.PositiveIntegerField(_("check in within"))
    checkin_unit = models.CharField(_("check-in unit"), max_length=16, choices=WindowUnit.choices)
    resolve_amount = models.PositiveIntegerField(_("resolve within"))
    resolve_unit = models.CharField(_("resolve unit"), max_length=16, choices=WindowUnit.choices)
    warning_ratio = models.DecimalField(
        _("warning at"),
        max_digits=3,
        decimal_places=2,
        help_text=_("Share of each window after which a task turns yellow, e.g. 0.80 for 80 %."),
    )
    requires_joint_meeting = models.BooleanField(
        _("requires a joint meeting"),
        default=False,
        help_text=_("Check-in is the joint meeting (吹哨会) of all departments of the whistle."),
    )
    supervise_after_amount = models.PositiveIntegerField(
        _("supervision order after"),
        default=1,
        help_text=_("How long a task is overdue before a supervision order (督办单) is issued; 0: at once."),
    )
    supervise_after_unit = models.CharField(
        _("supervision order unit"), max_length=16, choices=WindowUnit.choices, default=WindowUnit.WORKING_DAYS
    )
    accountable_after_amount = models.PositiveIntegerField(
        _("accountability record after"),
        default=3,
        help_text=_("How long a task is overdue before an accountability record (问责) is made."),
    )
    accountable_after_unit = models.CharField(
        _("accountability record unit"), max_length=16, choices=WindowUnit.choices, default=WindowUnit.WORKING_DAYS
    )
    reply_within_amount = models.PositiveIntegerField(_("reply to a supervision order within"), default=2)
    reply_within_unit = models.CharField(
        _("reply unit"), max_length=16, choices=WindowUnit.choices, default=WindowUnit.WORKING_DAYS
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        ordering = ["grade"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=Grade.values),
                name="slapolicy_grade_valid",
                violation_error_message=_("The grade must be ordinary, priority or difficult."),
            ),
            models.CheckConstraint(
                condition=Q(warning_ratio__gt=Decimal(0), warning_ratio__lt=Decimal(1)),
                name="slapolicy_warning_ratio_between_0_and_1",
                violation_error_message=_("The warning share must be more than 0 and less than 1, e.g. 0.80."),
            ),
            models.CheckConstraint(
                condition=Q(acknowledge_amount__gte=1, acknowledge_unit__in=WindowUnit.values),
                name="slapolicy_acknowledge_window_valid",
                violation_error_message=_("The acknowledge window needs an amount of at least 1 and a known unit."),
            ),
            models.CheckConstraint(
                condition=Q(checkin_amount__gte=1, checkin_unit__in=WindowUnit.values),
                name="slapolicy_checkin_window_valid",
                violation_error_message=_("The check-in window needs an amount of at least 1 and a known unit."),
            ),
            models.CheckConstraint(
                condition=Q(resolve_amount__gte=1, resolve_unit__in=WindowUnit.values),
                name="slapolicy_resolve_window_valid",
                violation_error_message=_("The resolve window needs an amount of at least 1 and a known unit."),
            ),
        ]

    def __str__(self):
        return self.get_grade_display()

    def clean(self):
        super().clean()
        errors = {}
        for stage in STAGES:
            amount, unit = getattr(self, f"{stage}_amount"), getattr(self, f"{stage}_unit")
            label = self._meta.get_field(f"{stage}_amount").verbose_name
            if amount is None or unit not in WindowUnit.values:
                continue
            if amount < 1:
                errors[f"{stage}_amount"] = _("“%(field)s” must be at least 1.") % {"field": label}
            elif amount > MAX_WINDOW_AMOUNT[unit]:
                errors[f"{stage}_amount"] = _("“%(field)s” may be at most %(limit)d %(unit)s (about ten years).") % {
                    "field": label,
                    "limit": MAX_WINDOW_AMOUNT[unit],
                    "unit": WindowUnit(unit).label,
                }
        for name in ("supervise_after", "accountable_after", "reply_within"):
            amount, unit = getattr(self, f"{name}_amount"), getattr(self, f"{name}_unit")
            label = self._meta.get_field(f"{name}_amount").verbose_name
            if amount is None or unit not in WindowUnit.values:
                continue
            if name == "reply_within" and amount < 1:
                errors[f"{name}_amount"] = _("“%(field)s” must be at least 1.") % {"field": label}
            elif amount > MAX_WINDOW_AMOUNT[unit]:
                errors[f"{name}_amount"] = _("“%(field)s” may be at most %(limit)d %(unit)s (about ten years).") % {
                    "field": label,
                    "limit": MAX_WINDOW_AMOUNT[unit],
                    "unit": WindowUnit(unit).label,
                }
        if self.warning_ratio is not None and not Decimal(0) < self.warning_ratio < Decimal(1):
            errors["warning_ratio"] = _(
                "“Warning at” is a share of the window: more than 0 and less than 1, e.g. 0.80 for 80 %."
            )
        if errors:
            raise ValidationError(errors)


class CalendarVersion(models.Model):
    """A stamp renewed in the same transaction as any change to the calendar, the working hours or a policy.

    Each process keeps its snapshot (escalation.policy.current_calendar) until
    it sees another stamp, so an edit in the admin reaches every worker at its
    next deadline computation.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.version)


class SupervisionOrder(models.Model):
    """An order from the supervisors on an overdue or stuck task (督办单); the department replies by its date."""

    class Status(models.TextChoices):
        OPEN = "open", _("open, waiting for the reply")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    task = models.ForeignKey(
        "whistle.Task", on_delete=models.CASCADE, related_name="supervision_orders", verbose_name=_("task")
    )
    automatic = models.BooleanField(
        _("issued by the sweep"), default=False, help_text=_("Issued by the deadline sweep rather than by hand.")
    )
    reason = models.TextField(_("reason"))
    reply_by = models.DateTimeField(_("reply by"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replied by"),
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_note = models.TextField(_("closing note"), blank=True)
    # Set by the sweep when the reply-by date passed unanswered and the accountability record was made.
    unanswered_at = models.DateTimeField(_("found unanswered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The sweep issues one order per task, however often it runs.
            models.UniqueConstraint(fields=["task"], condition=Q(automatic=True), name="supervision_one_automatic"),
        ]
        indexes = [
            models.Index(
                fields=["reply_by"],
                name="supervision_open_reply_by_idx",
                condition=Q(status="open", unanswered_at=None),
            ),
            # The orders list is newest first (escalation.selectors.order_list): a page reads its rows
            # from this index instead of sorting every order in the user's scope.
            models.Index(fields=["created_at", "id"], name="supervision_newest_first_idx"),
            # Open (and overdue) orders are listed nearest reply-by time first, on the dashboards too;
            # those found unanswered stay open, so the sweep's index above does not hold them.
            models.Index(fields=["reply_by", "id"], name="supervision_open_order_idx", condition=Q(status="open")),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"DB-{timezone.localtime(self.created_at):%Y}-{self.pk:06d}"


class AccountabilityRecord(models.Model):
    """A recorded failure of a department (问责记录); never deleted, only annotated."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("overdue past the limit")
        UNANSWERED_ORDER = "unanswered_order", _("supervision order unanswered")
        BUCK_PASSING = "buck_passing", _("buck-passing: returned again and again")

    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, related_name="accountability", verbose_name=_("department")
    )
    whistle = models.ForeignKey(
        "whistle.Whistle", on_delete=models.PROTECT, related_name="accountability", verbose_name=_("whistle")
    )
    task = models.ForeignKey(
        "whistle.Task", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("task")
    )
    order = models.ForeignKey(
        SupervisionOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accountability",
        verbose_name=_("supervision order"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    facts = models.TextField(_("facts"))
    events = models.ManyToManyField("whistle.Event", blank=True, related_name="+", verbose_name=_("linked events"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability ledger")
        ordering = ["-created_at", "-pk"]
        # The ledger is newest first (escalation.selectors.record_list): a page reads its rows from
        # this index instead of sorting every record in the user's scope.
        indexes = [models.Index(fields=["created_at", "id"], name="ledger_newest_first_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(kind="overdue"), name="accountability_overdue_once_per_task"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="unanswered_order"), name="accountability_once_per_order"
            ),
            models.UniqueConstraint(
                fields=["whistle", "department"],
                condition=Q(kind="buck_passing"),
                name="accountability_buck_passing_once",
            ),
        ]

    def __str__(self):
        return f"{self.department} · {self.get_kind_display()}"


class AccountabilityNote(models.Model):
    """A supervisor's annotation of an accountability record."""

    record = models.ForeignKey(
        AccountabilityRecord, on_delete=models.PROTECT, related_name="notes", verbose_name=_("record")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("accountability note")
        verbose_name_plural = _("accountability notes")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:40]


class OpenTaskTally(models.Model):
    """The open tasks counted by unit, kind and day, with their lights: the overdue dashboard's counts.

    Rebuilt every minute by beat (escalation.services.open_tasks_tally),
    so that the dashboard of a district with a million open tasks sums a few
    thousand rows instead of counting the tasks themselves.
    """

    district = models.ForeignKey("grids.District", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("grids.Street", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("departments.Department", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("departments.Category", on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(max_length=16)
    created_on = models.DateField(help_text=_("The local day the tasks were created."))
    open = models.PositiveIntegerField()
    warning = models.PositiveIntegerField()
    overdue = models.PositiveIntegerField()
    counted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("open task tally")
        verbose_name_plural = _("open task tallies")
        indexes = [models.Index(fields=["district", "created_on"], name="tally_district_day_idx")]

    def __str__(self):
        return f"{self.department_id}/{self.street_id} {self.created_on}: {self.open}"


# Evaluation (escalation.evaluation, escalation.statistics, escalation.topics) ---------------------


class EvaluationWeights(models.Model):
    """How the composite score of the three rates (三率) weighs each rate, per district, in whole per cent.

    The defaults are 30 (response), 40 (resolution) and 30 (satisfaction): a
    district without a row uses them. The three weights always add up to 100.
    """

    DEFAULT_RESPONSE = 30
    DEFAULT_RESOLUTION = 40
    DEFAULT_SATISFACTION = 30

    district = models.OneToOneField(
        "grids.District", on_delete=models.CASCADE, related_name="evaluation_weights", verbose_name=_("district")
    )
    response = models.PositiveSmallIntegerField(
        _("response rate weight"), default=DEFAULT_RESPONSE, help_text=_("Per cent of the score; default 30.")
    )
    resolution = models.PositiveSmallIntegerField(
        _("resolution rate weight"), default=DEFAULT_RESOLUTION, help_text=_("Per cent of the score; default 40.")
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction rate weight"), default=DEFAULT_SATISFACTION, help_text=_("Per cent of the score; default 30.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("evaluation weights")
        verbose_name_plural = _("evaluation weights")
        ordering = ["district__code"]
        constraints = [
            models.CheckConstraint(
                condition=models.lookups.Exact(F("response") + F("resolution") + F("satisfaction"), 100),
                name="evaluationweights_sum_100",
                violation_error_message=_("The three weights must add up to 100."),
            ),
        ]

    def __str__(self):
        return f"{self.district}: {self.response}/{self.resolution}/{self.satisfaction}"

    def clean(self):
        super().clean()
        weights = (self.response, self.resolution, self.satisfaction)
        if None not in weights and sum(weights) != 100:
            raise ValidationError(
                {
                    "satisfaction": _("The three weights must add up to 100 (they add up to %(total)d).")
                    % {"total": sum(weights)}
                }
            )


class ProblemTopic(models.Model):
    """A problem of the month (每月一题): a high-frequency category in an area that supervisors take on.

    Adopted by escalation.topics.problem_topic_adopt from a row of the
    high-frequency problems, with the whistles of that month linked to it;
    its count is followed month by month (escalation.statistics.topic_trends).
    The area is a community, a street, or (both empty) the whole district.
    """

    district = models.ForeignKey(
        "grids.District", on_delete=models.PROTECT, related_name="problem_topics", verbose_name=_("district")
    )
    title = models.CharField(_("title"), max_length=200)
    period = models.DateField(_("month"), help_text=_("The first day of the month the topic was adopted for."))
    category = models.ForeignKey(
        "departments.Category", on_delete=models.PROTECT, related_name="problem_topics", verbose_name=_("category")
    )
    street = models.ForeignKey(
        "grids.Street",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problem_topics",
        verbose_name=_("street"),
    )
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problem_topics",
        verbose_name=_("community"),
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("adopted by")
    )
    created_at = models.DateTimeField(_("adopted at"), default=timezone.now)
    whistles = models.ManyToManyField(
        "whistle.Whistle", blank=True, related_name="problem_topics", verbose_name=_("whistles")
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("problem of the month")
        verbose_name_plural = _("problems of the month")
        ordering = ["-period", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(community__isnull=True) | Q(street__isnull=False),
                name="problemtopic_community_has_street",
                violation_error_message=_("A community topic names the community's street too."),
            ),
            # One topic per month, category and area (three kinds of area: district, street, community).
            models.UniqueConstraint(
                fields=["district", "period", "category"],
                condition=Q(street__isnull=True, community__isnull=True),
                name="problemtopic_once_per_district",
            ),
            models.UniqueConstraint(
                fields=["period", "category", "street"],
                condition=Q(street__isnull=False, community__isnull=True),
                name="problemtopic_once_per_street",
            ),
            models.UniqueConstraint(
                fields=["period", "category", "community"],
                condition=Q(community__isnull=False),
                name="problemtopic_once_per_community",
            ),
        ]

    def __str__(self):
        return f"{self.period:%Y-%m} {self.title}"


class EvaluationTally(models.Model):
    """The counts behind the three rates for one month, by department and street (escalation.evaluation_tally).

    Counted again by beat every few minutes for the current and the previous
    month, and on reading any month whose count is older than
    EVALUATION_TALLY_MAX_AGE_S, so that a monthly ranking sums a few hundred
    rows instead of joining a month of tasks to their whistles. Each row holds
    exactly what escalation.evaluation.fact_counts counts; department is empty
    for the whistles closed or rated without a lead department.
    """

    district = models.ForeignKey("grids.District", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text=_("The first day of the month counted."))
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    street = models.ForeignKey("grids.Street", on_delete=models.CASCADE, related_name="+")
    acknowledged_on_time = models.PositiveIntegerField(default=0)
    acknowledgements_due = models.PositiveIntegerField(default=0)
    judged_solved = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("evaluation tally")
        verbose_name_plural = _("evaluation tallies")
        indexes = [models.Index(fields=["district", "month"], name="evaluation_tally_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.department_id}/{self.street_id}"


class EvaluationTallyMonth(models.Model):
    """When a district's month was last counted into the evaluation tally (a month without facts has no rows)."""

    district = models.ForeignKey("grids.District", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    counted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("evaluation tally month")
        verbose_name_plural = _("evaluation tally months")
        constraints = [
            models.UniqueConstraint(fields=["district", "month"], name="evaluation_tally_month_once"),
        ]

    def __str__(self):
        return f"{self.district_id} {self.month:%Y-%m}: {self.counted_at}"

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import District, Street


class Grade(models.TextChoices):
    """How serious a whistle is; decides its deadlines and whether a joint meeting is required."""

    ORDINARY = "ordinary", _("ordinary")
    PRIORITY = "priority", _("priority")
    DIFFICULT = "difficult", _("difficult")


class Department(models.Model):
    class Kind(models.TextChoices):
        DISTRICT_DEPARTMENT = "district_department", _("district department")
        GRASSROOTS_STATION = "grassroots_station", _("grassroots station")
        PUBLIC_SERVICE_ENTERPRISE = "public_service_enterprise", _("public-service enterprise")

    class StationKind(models.TextChoices):
        POLICE_STATION = "police_station", _("police station")
        URBAN_MANAGEMENT_SQUAD = "urban_management_squad", _("urban-management squad")
        JUDICIAL_OFFICE = "judicial_office", _("judicial office")
        MARKET_SUPERVISION_OFFICE = "market_supervision_office", _("market-supervision office")
        TRAFFIC_BRIGADE = "traffic_brigade", _("traffic brigade")

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="departments", verbose_name=_("district")
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    station_kind = models.CharField(_("station kind"), max_length=32, choices=StationKind.choices, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent unit")
    )
    streets = models.ManyToManyField(
        Street,
        blank=True,
        related_name="stations",
        verbose_name=_("streets served"),
        help_text=_("For grassroots stations: the streets and townships in their jurisdiction."),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="grassroots_station") | Q(station_kind=""),
                name="department_station_kind_only_for_stations",
                violation_error_message=_("Only a grassroots station has a station kind."),
            ),
        ]

    def __str__(self):
        return self.name


class Category(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    default_grade = models.CharField(_("default grade"), max_length=16, choices=Grade.choices, default=Grade.ORDINARY)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self):
        return self.name


class CategoryAttribute(models.Model):
    """A question a whistle of this category answers (an Open311 service definition's attribute).

    `values` lists the choices of the list types as [{"key": ..., "name": ...}];
    an attribute that is not `variable` is a notice shown to the reporter and
    takes no answer. departments.attributes checks answers against these.
    """

    class Datatype(models.TextChoices):
        STRING = "string", _("short text")
        NUMBER = "number", _("a number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", _("long text")
        SINGLEVALUELIST = "singlevaluelist", _("one choice of a list")
        MULTIVALUELIST = "multivaluelist", _("several choices of a list")

    LIST_DATATYPES = (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="attributes", verbose_name=_("category")
    )
    code = models.CharField(
        _("code"),
        max_length=32,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$", _("Use only letters, digits, dashes and underscores."), code="invalid_code"
            )
        ],
        help_text=_("Unique within the category; clients send the answer as attribute[code]."),
    )
    variable = models.BooleanField(
        _("takes an answer"), default=True, help_text=_("Off for a notice that is only shown to the reporter.")
    )
    datatype = models.CharField(_("type of answer"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(
        _("description of the answer's form"), max_length=200, blank=True, help_text=_("E.g. 京A12345.")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    description = models.CharField(_("question"), max_length=300)
    values = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For the list types: [{"key": "car", "name": "小型汽车"}, ...]; keys are what clients send.'),
    )

    class Meta:
        verbose_name = _("category attribute")
        verbose_name_plural = _("category attributes")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "code"],
                name="category_attribute_unique_code",
                violation_error_message=_("This category already has an attribute with this code."),
            ),
        ]

    def __str__(self):
        return f"{self.category.code}.{self.code}"

    def clean(self):
        from departments.attributes import values_problem

        problem = values_problem(self.datatype, self.values)
        if problem:
            raise ValidationError({"values": problem})
        if not self.variable and self.required:
            raise ValidationError({"required": _("A notice takes no answer, so it cannot be required.")})


class Responsibility(models.Model):
    """A rule of the responsibility catalogue (职责清单).

    For this category this department leads or co-operates — everywhere when
    no street is listed, else only in the listed streets. A street-scoped
    lead takes precedence over a district-wide one; there is never more than
    one lead of either scope for a category and street (see
    departments.services.responsibility_check_single_lead).
    """

    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        CO_OPERATING = "co_operating", _("co-operating")

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="responsibilities", verbose_name=_("category")
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="responsibilities", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    streets = models.ManyToManyField(
        Street,
        blank=True,
        related_name="responsibilities",
        verbose_name=_("streets"),
        help_text=_("Leave empty for a rule that applies in every street of the district."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("responsibility rule")
        verbose_name_plural = _("responsibility catalogue")
        ordering = ["category__code", "role", "department__code"]

    def __str__(self):
        return f"{self.category} · {self.department} · {self.get_role_display()}"


STREET_ROLES = ("dispatcher", "grid_worker", "party_office", "street_deputy", "street_head", "street_staff")
DEPARTMENT_ROLES = ("dept_head", "dept_staff")
DISTRICT_ROLES = ("hotline_client", "supervisor")


class Membership(models.Model):
    """Which org unit a user acts for, and in which role; the basis of every access check."""

    class Role(models.TextChoices):
        STREET_STAFF = "street_staff", _("street staff")
        STREET_DEPUTY = "street_deputy", _("street deputy head")
        STREET_HEAD = "street_head", _("street head")
        PARTY_OFFICE = "party_office", _("party-building office")
        GRID_WORKER = "grid_worker", _("grid worker")
        DISPATCHER = "dispatcher", _("dispatcher")
        DEPT_STAFF = "dept_staff", _("department staff")
        DEPT_HEAD = "dept_head", _("department head")
        SUPERVISOR = "supervisor", _("supervisor")
        HOTLINE_CLIENT = "hotline_client", _("12345 hotline client")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("street")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("department"),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("district (supervision office)"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # Exactly one unit, and the one the role belongs to.
            models.CheckConstraint(
                condition=(
                    Q(role__in=STREET_ROLES, street__isnull=False, department__isnull=True, district__isnull=True)
                    | Q(role__in=DEPARTMENT_ROLES, street__isnull=True, department__isnull=False, district__isnull=True)
                    | Q(role__in=DISTRICT_ROLES, street__isnull=True, department__isnull=True, district__isnull=False)
                ),
                name="membership_unit_matches_role",
                violation_error_message=_(
                    "A street role needs a street, a department role a department, and a supervisor or "
                    "hotline client the district — and only that unit."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    @property
    def unit(self):
        return self.street or self.department or self.district


class CatalogueVersion(models.Model):
    """A stamp renewed in the same transaction as any change to units, categories or rules.

    Each process keeps the responsibility catalogue it routes by until it
    sees another stamp (departments.catalogue).
    """

    version = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.version)

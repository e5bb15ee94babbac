from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from grids.geometry import BoundaryError, find_overlaps, parse_boundary


class District(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Street(models.Model):
    class Kind(models.TextChoices):
        STREET = "street", _("street office")
        TOWNSHIP = "township", _("township")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets", verbose_name=_("district"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STREET)
    population = models.PositiveIntegerField(
        _("population"),
        null=True,
        blank=True,
        help_text=_("Resident population, for the whistle rate per 10,000 residents; leave empty when unknown."),
    )

    class Meta:
        verbose_name = _("street or township")
        verbose_name_plural = _("streets and townships")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Community(models.Model):
    class Kind(models.TextChoices):
        RESIDENTS = "residents", _("residents' committee")
        VILLAGERS = "villagers", _("villagers' committee")

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street"))
    code = models.CharField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RESIDENTS)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(
        _("boundary"), help_text=_("GeoJSON Polygon or MultiPolygon, longitude/latitude (WGS 84).")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def street(self) -> Street:
        return self.community.street

    def clean(self):
        from grids.locate import current_index, lock_grid_writes

        label = self.code or _("new grid")
        try:
            shape = parse_boundary(self.boundary)
        except BoundaryError as exc:
            raise ValidationError(
                {"boundary": _("Grid %(grid)s: %(reason)s") % {"grid": label, "reason": exc}}
            ) from None
        if self.community_id is None:
            return
        district_id = self.community.street.district_id
        if transaction.get_connection().in_atomic_block:
            # The admin saves in the same transaction as this check.
            lock_grid_writes()
        index = current_index()
        items = [
            (grid.code, grid.community.street.district_id, geometry)
            for grid, geometry in zip(index.grids, index.geometries, strict=True)
            if grid.pk != self.pk
        ]
        items.append((label, district_id, shape))
        clashes = find_overlaps(items, only=[len(items) - 1])
        if clashes:
            _label, other, area = clashes[0]
            raise ValidationError(
                {
                    "boundary": _("Grid %(grid)s overlaps grid %(other)s by about %(area)d m².")
                    % {
                        "grid": label,
                        "other": other,
                        "area": area,
                    }
                }
            )


class GridIndexVersion(models.Model):
    """A stamp renewed in the same transaction as any change to the geography.

    Each process keeps its point-location index until it sees another stamp,
    so an edit in the admin or an import reaches every worker at its next lookup.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.version)


class GridWorker(models.Model):
    class Employment(models.TextChoices):
        FULL_TIME = "full_time", _("full-time")
        PART_TIME = "part_time", _("part-time")

    class Kind(models.TextChoices):
        ADMINISTRATIVE = "administrative", _("administrative")
        PROFESSIONAL = "professional", _("professional")
        SERVICE = "service", _("service (third party)")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grid_worker", verbose_name=_("user")
    )
    grids = models.ManyToManyField(Grid, related_name="workers", verbose_name=_("grids"))
    employment = models.CharField(
        _("employment"), max_length=16, choices=Employment.choices, default=Employment.FULL_TIME
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ADMINISTRATIVE)

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

"""Read queries of the map: the grids a user may see, their whistle counts, the whistles' markers and lights.

Every whistle comes through `whistle_scope`, the rule of the lists and the
whistle page, so the map never counts or marks a whistle its viewer could not
open. The grids shown are the viewer's unit's: a street its own grids, a
department, supervisor or hotline client those of its district.

A whistle's light is the worst light of its open tasks (the rule of
`task_selectors.with_stage`: red past the stage's deadline, yellow past its
warning, green before), or grey when it has no open task; it is one
correlated subquery, so a list of whistles carries it without a query per row.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.db.models import Case, CharField, Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from config.errors import NotAllowed, NotFound
from departments.models import Category, Department
from grids.models import Grid
from whistle.models import Task, Whistle
from whistle.permissions import membership_of, whistle_scope
from whistle.task_selectors import GREEN, RED, STAGES, YELLOW

GREY = "grey"
# Markers drawn at most: the newest open whistles with a point. More would make the
# map unreadable and the page slow on a phone; the page says when some are left out.
MARKER_LIMIT = 2000
SHADES = 5  # classes of the choropleth besides 0 (unshaded)
OPEN, ALL = "open", "all"

_RANKS = {RED: 3, YELLOW: 2, GREEN: 1}
_LIGHT_OF_RANK = {rank: light for light, rank in _RANKS.items()}


@dataclass(frozen=True)
class MapFilter:
    """What the map shows: open whistles only, or all; of one category, or of any."""

    status: str = OPEN
    category: Category | None = None


# Scope -------------------------------------------------------------------------------


def map_grids(*, user) -> QuerySet[Grid]:
    """The grids the user's map shows; NotAllowed for a user without a unit."""
    if user.is_superuser:
        return Grid.objects.all()
    membership = membership_of(user)
    if membership is None:
        raise NotAllowed(_("The map shows the grids of your unit; your account has none."))
    if membership.street_id:
        return Grid.objects.filter(community__street_id=membership.street_id)
    if membership.department_id:
        # The district as a subquery, so the department's row is not loaded for it.
        district = Department.objects.filter(pk=membership.department_id).values("district_id")
        return Grid.objects.filter(community__street__district_id=Subquery(district))
    if membership.district_id:
        return Grid.objects.filter(community__street__district_id=membership.district_id)
    return Grid.objects.none()


def map_grid_get(*, user, code: str) -> Grid:
    """One grid of the user's map, with its community and street; NotFound when it is not on it."""
    grid = map_grids(user=user).select_related("community__street").defer("boundary").filter(code=code).first()
    if grid is None:
        raise NotFound(_("Grid %(code)s does not exist or is not on your map.") % {"code": code})
    return grid


def map_whistles(*, user, filters: MapFilter) -> QuerySet[Whistle]:
    """The whistles the user may see that the filters keep (no order, no light)."""
    whistles = whistle_scope(user)
    if filters.status == OPEN:
        whistles = whistles.filter(status__in=Whistle.OPEN_STATUSES)
    if filters.category is not None:
        whistles = whistles.filter(category_id=filters.category.pk)
    return whistles


# Lights ------------------------------------------------------------------------------


def with_light(whistles: QuerySet[Whistle], *, now: datetime) -> QuerySet[Whistle]:
    """Annotate each whistle with `light`: the worst light of its open tasks, or grey without one."""
    red, yellow = Q(), Q()
    for status, (_name, due_field, warn_field) in STAGES.items():
        red |= Q(status=status, **{f"{due_field}__lt": now})
        yellow |= Q(status=status, **{f"{warn_field}__lt": now})
    rank = Case(
        When(red, then=Value(_RANKS[RED])),
        When(yellow, then=Value(_RANKS[YELLOW])),
        default=Value(_RANKS[GREEN]),
        output_field=IntegerField(),
    )
    worst = (
        Task.objects.filter(whistle=OuterRef("pk"), status__in=Task.OPEN_STATUSES)
        .order_by()
        .values("whistle")
        .annotate(worst=Max(rank))
        .values("worst")
    )
    light = Case(
        *[When(light_rank=r, then=Value(light)) for r, light in _LIGHT_OF_RANK.items()],
        default=Value(GREY),
        output_field=CharField(),
    )
    return whistles.annotate(light_rank=Coalesce(Subquery(worst, output_field=IntegerField()), 0)).annotate(light=light)


# The grids and their counts -------------------------------------------------------------


def grid_counts(*, user, filters: MapFilter) -> dict[int, dict[str, int]]:
    """{grid id: {"count": whistles the filters keep, "open_count": of them open}}, in one grouped query."""
    rows = (
        map_whistles(user=user, filters=filters)
        .filter(grid__isnull=False)
        .order_by()
        .values("grid_id")
        .annotate(count=Count("pk"), open_count=Count("pk", filter=Q(status__in=Whistle.OPEN_STATUSES)))
    )
    return {row["grid_id"]: {"count": row["count"], "open_count": row["open_count"]} for row in rows}


def shade_breaks(counts) -> list[dict]:
    """The choropleth's classes for these counts: equal steps up to the largest, at most SHADES of them.

    [{"shade": 1, "low": 1, "high": 4}, …]; a count of 0 has shade 0 (unshaded)
    and no class. With a largest count of 3 there are three classes of one each.
    """
    top = max(counts, default=0)
    if top <= 0:
        return []
    step = max(1, math.ceil(top / SHADES))
    breaks, low, shade = [], 1, 1
    while low <= top:
        high = min(top, low + step - 1)
        breaks.append({"shade": shade, "low": low, "high": high})
        low, shade = high + 1, shade + 1
    return breaks


def shade_of(count: int, breaks: list[dict]) -> int:
    for item in breaks:
        if item["low"] <= count <= item["high"]:
            return item["shade"]
    return 0


def grids_geojson(*, user, filters: MapFilter) -> dict:
    """The user's grids as a GeoJSON FeatureCollection, each with its counts and choropleth shade.

    Two queries however many grids and whistles: the grids with their
    community and street, and the counts grouped by grid.
    """
    grids = list(map_grids(user=user).select_related("community__street").order_by("code"))
    counts = grid_counts(user=user, filters=filters)
    breaks = shade_breaks(c["count"] for c in counts.values())
    features = []
    for grid in grids:
        count = counts.get(grid.pk, {"count": 0, "open_count": 0})
        features.append(
            {
                "type": "Feature",
                "geometry": grid.boundary,
                "properties": {
                    "code": grid.code,
                    "name": grid.name,
                    "community": grid.community.name,
                    "street": grid.community.street.name,
                    "open_count": count["open_count"],
                    "count": count["count"],
                    "shade": shade_of(count["count"], breaks),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "legend": breaks}


@dataclass
class GridRow:
    code: str
    name: str
    community: str
    street: str
    count: int
    open_count: int
    shade: int


def grid_table(*, user, filters: MapFilter) -> tuple[list[GridRow], list[dict]]:
    """The user's grids for the list under the map, busiest first, and the legend's classes.

    The boundaries are not loaded: the map fetches them from grids_geojson.
    """
    grids = (
        map_grids(user=user)
        .order_by("code")
        .values_list("pk", "code", "name", "community__name", "community__street__name")
    )
    counts = grid_counts(user=user, filters=filters)
    breaks = shade_breaks(c["count"] for c in counts.values())
    rows = []
    for pk, code, name, community, street in grids:
        count = counts.get(pk, {"count": 0, "open_count": 0})
        rows.append(
            GridRow(
                code=code,
                name=name,
                community=community,
                street=street,
                count=count["count"],
                open_count=count["open_count"],
                shade=shade_of(count["count"], breaks),
            )
        )
    rows.sort(key=lambda row: -row.count)  # stable: by code within a count
    return rows, breaks


# Markers and the grid panel ------------------------------------------------------------


def whistles_geojson(*, user, filters: MapFilter, now: datetime, limit: int = MARKER_LIMIT) -> dict:
    """The newest `limit` whistles with a point as GeoJSON points, with number, title, status, light and url.

    `truncated` says whether more whistles had a point than were drawn; one
    query either way (a row past the limit is asked for, not a count).
    """
    rows = list(
        with_light(map_whistles(user=user, filters=filters).filter(lon__isnull=False, lat__isnull=False), now=now)
        .order_by("-created_at", "-pk")
        .values("number", "title", "status", "lon", "lat", "light")[: limit + 1]
    )
    truncated = len(rows) > limit
    # One reverse() for all rows: at two thousand markers it is most of the view's time otherwise.
    placeholder = "0NUMBER0"
    url_pattern = reverse("whistle:detail", args=[placeholder])
    statuses = dict(Whistle.Status.choices)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "number": row["number"],
                "title": row["title"],
                "status": row["status"],
                "status_label": str(statuses.get(row["status"], row["status"])),
                "light": row["light"],
                "url": url_pattern.replace(placeholder, quote(row["number"], safe="")),
            },
        }
        for row in rows[:limit]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": truncated, "limit": limit}


def grid_whistles(*, user, grid: Grid, filters: MapFilter, now: datetime) -> QuerySet[Whistle]:
    """The whistles of one grid that the user may see and the filters keep, newest first, with their light."""
    whistles = map_whistles(user=user, filters=filters).filter(grid_id=grid.pk)
    return with_light(whistles.only("pk", "number", "title", "status", "created_at"), now=now).order_by(
        "-created_at", "-pk"
    )


# The whistle page's map ----------------------------------------------------------------


def whistle_location(whistle: Whistle) -> dict | None:
    """What the whistle page's small map shows: its point and its grid's outline; None with neither.

    Expects the grid loaded with the whistle (whistle_get does): no query.
    """
    has_point = whistle.lon is not None and whistle.lat is not None
    grid = whistle.grid
    if not has_point and grid is None:
        return None
    return {
        "lon": whistle.lon if has_point else None,
        "lat": whistle.lat if has_point else None,
        "boundary": json.dumps(grid.boundary, separators=(",", ":")) if grid is not None else "",
        "grid_label": f"{grid.code} {grid.name}" if grid is not None else "",
    }

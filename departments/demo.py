"""Build the demo district described in DESIGN.md ("Demo district").

Streets, units, categories and responsibility rules come from
departments/fixtures/demo_district.json. Communities and grids are synthetic
but deterministic (every random choice is seeded by the street code), so every
machine draws the same map around the real street centres. Rows are keyed on
their codes and usernames: a second run finds everything in place and writes
nothing.
"""

import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import MultiPoint
from shapely.geometry.polygon import orient

from departments.catalogue import catalogue_changed
from departments.models import Category, CategoryAttribute, Department, Membership, Responsibility
from departments.services import responsibility_create
from grids.geometry import find_overlaps, parse_boundary
from grids.locate import bump_grid_version
from grids.models import Community, District, Grid, GridWorker, Street

DEMO_PASSWORD = "demo-pass-2026"  # nosec B105 # the published demo login; seed_demo refuses to run with DEBUG off
DEMO_DATA_PATH = Path(__file__).resolve().parent / "fixtures" / "demo_district.json"

COMMUNITIES_PER_STREET = (3, 8)
GRIDS_PER_COMMUNITY = (2, 4)
# Stored coordinates have 6 decimals (about 0.1 m).
_DECIMALS = 6
_GRID_SIZE = 10.0**-_DECIMALS
# How far the district outline reaches beyond the outermost street centres,
# in degrees of latitude (about 4.4 km).
_OUTLINE_MARGIN = 0.04

# Username suffix, role, and the title shown after the street's name.
_STREET_USERS = (
    ("staff", Membership.Role.STREET_STAFF, "工作人员"),
    ("deputy", Membership.Role.STREET_DEPUTY, None),
    ("head", Membership.Role.STREET_HEAD, None),
    ("party", Membership.Role.PARTY_OFFICE, "党建办干部"),
    ("grid", Membership.Role.GRID_WORKER, "网格员"),
    ("dispatcher", Membership.Role.DISPATCHER, "调度员"),
)
_UNIT_USERS = (
    ("staff", Membership.Role.DEPT_STAFF, "工作人员"),
    ("head", Membership.Role.DEPT_HEAD, "负责人"),
)
_VILLAGE_NAMES = tuple(
    f"{name}村"
    for name in (
        "东关 西关 南关 北关 上水磨 下水磨 前庄 后庄 大营 小营 石峡 岔道 榆林堡 王家堡 李家庄 张家营 "
        "刘家沟 马家峪 新庄堡 河东 河南 杏树园 柳沟 苏庄 白草洼 红旗甸 黄土梁 石河营 西拨子 三里河 胡家营 东红寺"
    ).split()
)


class DemoSeedError(Exception):
    """The demo district cannot be built here, or its data are inconsistent; the message says why."""


@dataclass(frozen=True)
class DemoSeedResult:
    district: str
    totals: dict[str, int]
    created: int
    updated: int


@dataclass(frozen=True)
class GridPlan:
    code: str
    name: str
    boundary: dict


@dataclass(frozen=True)
class CommunityPlan:
    street_code: str
    code: str
    name: str
    kind: str
    grids: tuple[GridPlan, ...]


@dataclass(frozen=True)
class _UserPlan:
    username: str
    first_name: str
    role: str = ""
    street: str = ""
    unit: str = ""
    superuser: bool = False


def demo_district_data() -> dict:
    with DEMO_DATA_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


@transaction.atomic
def demo_district_seed(*, data: dict | None = None, now: datetime | None = None) -> DemoSeedResult:
    """Create or complete the demo district; refuses unless DEBUG is on (it publishes one password for every user)."""
    if not settings.DEBUG:
        raise DemoSeedError(
            _(
                "The demo district is only built with DEBUG on: it creates hundreds of users who share a "
                "published password."
            )
        )
    data = data if data is not None else demo_district_data()
    now = now or timezone.now()
    tally = Counter()
    district, streets = _seed_streets(data=data, tally=tally)
    plans = demo_geography_plan(streets=data["streets"])
    grids = _seed_communities_and_grids(plans=plans, streets=streets, now=now, tally=tally)
    if tally["geography"]:
        # bulk_create/bulk_update skip the post_save signal that normally does this.
        bump_grid_version()
    before = tally["created"] + tally["updated"]
    units = _seed_units(data=data, district=district, streets=streets, tally=tally)
    categories, rules = _seed_catalogue(data=data, units=units, streets=streets, tally=tally)
    _seed_attributes(categories=categories, tally=tally)
    if tally["created"] + tally["updated"] > before:
        catalogue_changed()  # the bulk writes above send no signals
    users = _seed_users(
        data=data, district=district, streets=streets, units=units, plans=plans, grids=grids, tally=tally
    )
    return DemoSeedResult(
        district=district.name,
        totals={
            "streets": len(streets),
            "communities": len(plans),
            "grids": len(grids),
            "departments": len(units),
            "categories": len(categories),
            "responsibilities": rules,
            "users": users,
        },
        created=tally["created"],
        updated=tally["updated"],
    )


# Writing rows -----------------------------------------------------------------------


def _sync(
    model: type[models.Model],
    rows: dict,
    *,
    tally: Counter,
    key: str = "code",
    on_create: Callable[[], dict] | None = None,
    on_update: dict | None = None,
) -> dict:
    """Make the rows keyed by `key` hold these field values; return them by key.

    Missing rows are bulk-created (with `on_create()` added), rows whose
    values differ are bulk-updated on just those fields, rows that already
    match are not written at all: that is what makes a second run a no-op.
    The values come from the checked-in fixture and the geometry checks in
    this module; the database constraints are the backstop for full_clean().
    """
    existing = model.objects.in_bulk(list(rows), field_name=key)
    missing = [value for value in rows if value not in existing]
    extra = on_create() if missing and on_create else {}
    new = [model(**{key: value}, **rows[value], **extra) for value in missing]
    changed, fields = [], set()
    for value, obj in existing.items():
        diff = [name for name, wanted in rows[value].items() if getattr(obj, name) != wanted]
        if diff:
            for name in diff:
                setattr(obj, name, rows[value][name])
            for name, wanted in (on_update or {}).items():
                setattr(obj, name, wanted)
            changed.append(obj)
            fields.update(diff, on_update or {})
    model.objects.bulk_create(new)
    if changed:
        model.objects.bulk_update(changed, sorted(fields))
    tally["created"] += len(new)
    tally["updated"] += len(changed)
    return model.objects.in_bulk(list(rows), field_name=key) if new else existing


def _sync_links(
    *, through: type[models.Model], owner: str, target: str, wanted: dict[int, set[int]], tally: Counter
) -> None:
    """Make the many-to-many links of the owners in `wanted` exactly those listed."""
    have: dict[int, set[int]] = {owner_id: set() for owner_id in wanted}
    for owner_id, target_id in through.objects.filter(**{f"{owner}__in": list(wanted)}).values_list(owner, target):
        have[owner_id].add(target_id)
    stale = [(o, t) for o, targets in have.items() for t in targets - wanted[o]]
    for owner_id, target_id in stale:
        through.objects.filter(**{owner: owner_id, target: target_id}).delete()
    new = [through(**{owner: o, target: t}) for o, targets in wanted.items() for t in sorted(targets - have[o])]
    through.objects.bulk_create(new)
    tally["created"] += len(new)
    tally["updated"] += len(stale)


def _seed_streets(*, data: dict, tally: Counter) -> tuple[District, dict[str, Street]]:
    before = tally["created"] + tally["updated"]
    code = data["district"]["code"]
    district = _sync(District, {code: {"name": data["district"]["name"]}}, tally=tally)[code]
    rows = {s["code"]: {"district_id": district.pk, "name": s["name"], "kind": s["kind"]} for s in data["streets"]}
    streets = _sync(Street, rows, tally=tally)
    tally["geography"] += tally["created"] + tally["updated"] - before
    return district, streets


def _seed_communities_and_grids(
    *, plans: list[CommunityPlan], streets: dict[str, Street], now: datetime, tally: Counter
) -> dict[str, Grid]:
    before = tally["created"] + tally["updated"]
    community_rows = {
        plan.code: {"street_id": streets[plan.street_code].pk, "name": plan.name, "kind": plan.kind} for plan in plans
    }
    communities = _sync(Community, community_rows, tally=tally)
    grid_rows = {
        grid.code: {"community_id": communities[plan.code].pk, "name": grid.name, "boundary": grid.boundary}
        for plan in plans
        for grid in plan.grids
    }
    grids = _sync(Grid, grid_rows, tally=tally, on_update={"updated_at": now})
    tally["geography"] += tally["created"] + tally["updated"] - before
    return grids


def _seed_units(*, data: dict, district: District, streets: dict[str, Street], tally: Counter) -> dict[str, Department]:
    rows = {
        unit["code"]: {
            "district_id": district.pk,
            "name": unit["name"],
            "kind": unit["kind"],
            "station_kind": unit.get("station_kind", ""),
            "parent_id": None,
        }
        for unit in (*data["departments"], *data["stations"], *data["enterprises"])
    }
    units = _sync(Department, rows, tally=tally)
    wanted = {units[s["code"]].pk: {streets[code].pk for code in s["streets"]} for s in data["stations"]}
    _sync_links(
        through=Department.streets.through, owner="department_id", target="street_id", wanted=wanted, tally=tally
    )
    return units


def _seed_catalogue(
    *, data: dict, units: dict[str, Department], streets: dict[str, Street], tally: Counter
) -> tuple[dict[str, Category], int]:
    rows = {c["code"]: {"name": c["name"], "default_grade": c["default_grade"]} for c in data["categories"]}
    categories = _sync(Category, rows, tally=tally)
    specs = _rule_specs(data)
    existing = {
        (rule.category.code, rule.department.code, rule.role, tuple(sorted(s.code for s in rule.streets.all())))
        for rule in Responsibility.objects.filter(category__in=categories.values())
        .select_related("category", "department")
        .prefetch_related("streets")
    }
    for category, unit, role, street_codes in specs:
        if (category, unit, role, street_codes) in existing:
            continue
        # One at a time through the service, so that the single-lead rule is checked.
        responsibility_create(
            category=categories[category],
            department=units[unit],
            role=role,
            streets=[streets[code] for code in street_codes],
        )
        tally["created"] += 1
    return categories, len(specs)


# The questions a few demo categories ask (their Open311 service definitions), by category code.
# None is required: the demo activity (escalation.demo) and the benchmarks raise whistles of
# these categories without answers, as a client that predates the questions would.
_YES_NO = [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]
DEMO_ATTRIBUTES: dict[str, list[dict]] = {
    "CITY-PARKING": [
        {
            "code": "plate",
            "datatype": "string",
            "description": "车牌号",
            "datatype_description": "如 京A12345；无牌车填“无牌”",
        },
        {
            "code": "vehicle",
            "datatype": "singlevaluelist",
            "description": "车辆类型",
            "values": [
                {"key": "car", "name": "小型汽车"},
                {"key": "truck", "name": "货车"},
                {"key": "bus", "name": "大中型客车"},
                {"key": "two_wheeler", "name": "摩托车或电动自行车"},
            ],
        },
        {
            "code": "blocking",
            "datatype": "singlevaluelist",
            "description": "是否堵塞消防通道或出入口",
            "values": _YES_NO,
        },
    ],
    "UTIL-WATER": [
        {
            "code": "notice",
            "variable": False,
            "datatype": "text",
            "description": "大面积停水或管道爆裂请同时拨打供水抢修电话 96116。",
        },
        {
            "code": "problem",
            "datatype": "singlevaluelist",
            "description": "问题类型",
            "values": [
                {"key": "burst", "name": "管道爆裂"},
                {"key": "leak", "name": "渗漏"},
                {"key": "no_water", "name": "停水"},
                {"key": "pressure", "name": "水压低"},
                {"key": "quality", "name": "水质异常"},
            ],
        },
        {
            "code": "pipe_diameter",
            "datatype": "number",
            "description": "管径（毫米）",
            "datatype_description": "看不清可不填，如 100",
        },
        {
            "code": "water_off",
            "datatype": "singlevaluelist",
            "description": "停水范围",
            "values": [
                {"key": "none", "name": "未停水"},
                {"key": "household", "name": "个别住户"},
                {"key": "building", "name": "整栋楼"},
                {"key": "compound", "name": "整个小区"},
                {"key": "area", "name": "片区"},
            ],
        },
    ],
    "TRAFFIC-ROAD": [
        {
            "code": "defects",
            "datatype": "multivaluelist",
            "description": "破损情况（可多选）",
            "values": [
                {"key": "pothole", "name": "坑槽"},
                {"key": "crack", "name": "裂缝"},
                {"key": "subsidence", "name": "塌陷"},
                {"key": "manhole_missing", "name": "井盖缺失"},
                {"key": "manhole_broken", "name": "井盖破损或松动"},
            ],
        },
        {
            "code": "area_m2",
            "datatype": "number",
            "description": "破损面积（平方米）",
            "datatype_description": "估计值",
        },
    ],
    "ECO-NOISE-BUILD": [
        {
            "code": "heard_at",
            "datatype": "datetime",
            "description": "噪声出现时间",
            "datatype_description": "如 2026-05-06T22:30:00+08:00",
        },
        {"code": "site", "datatype": "string", "description": "工地名称或施工单位"},
        {
            "code": "night",
            "datatype": "singlevaluelist",
            "description": "是否夜间施工（22时至次日6时）",
            "values": _YES_NO,
        },
    ],
}


def _seed_attributes(*, categories: dict[str, Category], tally: Counter) -> None:
    """Give the demo categories of DEMO_ATTRIBUTES their questions; keyed on (category, code), so a rerun writes nothing."""
    wanted = {}
    for category_code, specs in DEMO_ATTRIBUTES.items():
        for order, spec in enumerate(specs, start=1):
            fields = {
                "variable": spec.get("variable", True),
                "datatype": spec["datatype"],
                "required": spec.get("required", False),
                "datatype_description": spec.get("datatype_description", ""),
                "order": order,
                "description": spec["description"],
                "values": spec.get("values", []),
            }
            wanted[categories[category_code].pk, spec["code"]] = fields
    existing = {
        (attribute.category_id, attribute.code): attribute
        for attribute in CategoryAttribute.objects.filter(category_id__in={pk for pk, _code in wanted})
    }
    new, changed, names = [], [], set()
    for (category_id, code), fields in wanted.items():
        attribute = existing.get((category_id, code))
        if attribute is None:
            new.append(CategoryAttribute(category_id=category_id, code=code, **fields))
            continue
        diff = [name for name, value in fields.items() if getattr(attribute, name) != value]
        for name in diff:
            setattr(attribute, name, fields[name])
        if diff:
            changed.append(attribute)
            names.update(diff)
    CategoryAttribute.objects.bulk_create(new)
    if changed:
        CategoryAttribute.objects.bulk_update(changed, sorted(names))
    tally["created"] += len(new)
    tally["updated"] += len(changed)


def _rule_specs(data: dict) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(category, unit, role, street codes) per rule; no street codes means district-wide.

    {"per_street": KIND} becomes one rule per station of that kind, scoped to
    the streets it serves, so that every street gets its own station.
    """
    all_streets = {s["code"] for s in data["streets"]}
    specs = []
    for category in data["categories"]:
        entries = [(Responsibility.Role.LEAD, category["lead"])]
        entries += [(Responsibility.Role.CO_OPERATING, entry) for entry in category["co_operating"]]
        for role, entry in entries:
            if isinstance(entry, str):
                specs.append((category["code"], entry, role.value, ()))
                continue
            stations = [s for s in data["stations"] if s["station_kind"] == entry["per_street"]]
            served = {code for station in stations for code in station["streets"]}
            if role == Responsibility.Role.LEAD and served != all_streets:
                raise DemoSeedError(
                    _("Category %(category)s: no %(kind)s serves %(streets)s, so nobody would lead there.")
                    % {
                        "category": category["code"],
                        "kind": entry["per_street"],
                        "streets": ", ".join(sorted(all_streets - served)),
                    }
                )
            specs += [(category["code"], s["code"], role.value, tuple(sorted(s["streets"]))) for s in stations]
    return specs


def _seed_users(
    *,
    data: dict,
    district: District,
    streets: dict[str, Street],
    units: dict[str, Department],
    plans: list[CommunityPlan],
    grids: dict[str, Grid],
    tally: Counter,
) -> int:
    specs = _user_plans(data)
    user_rows = {
        spec.username: {
            "first_name": spec.first_name,
            "is_active": True,
            "is_staff": spec.superuser,
            "is_superuser": spec.superuser,
        }
        for spec in specs
    }
    # One hash for every new user: hashing hundreds of passwords one by one takes minutes.
    users = _sync(
        get_user_model(),
        user_rows,
        tally=tally,
        key="username",
        on_create=lambda: {"password": make_password(DEMO_PASSWORD)},
    )
    membership_rows = {
        users[spec.username].pk: {
            "role": spec.role,
            "street_id": streets[spec.street].pk if spec.street else None,
            "department_id": units[spec.unit].pk if spec.unit else None,
            "district_id": district.pk
            if spec.role in (Membership.Role.SUPERVISOR, Membership.Role.HOTLINE_CLIENT)
            else None,
        }
        for spec in specs
        if spec.role
    }
    _sync(Membership, membership_rows, tally=tally, key="user_id")
    # Each street's grid worker looks after the grids of the street's first community.
    first_community = {}
    for plan in plans:
        first_community.setdefault(plan.street_code, plan)
    worker_grids = {
        users[spec.username].pk: {grids[g.code].pk for g in first_community[spec.street].grids}
        for spec in specs
        if spec.role == Membership.Role.GRID_WORKER
    }
    workers = _sync(GridWorker, {user_id: {} for user_id in worker_grids}, tally=tally, key="user_id")
    wanted = {workers[user_id].pk: grid_ids for user_id, grid_ids in worker_grids.items()}
    _sync_links(through=GridWorker.grids.through, owner="gridworker_id", target="grid_id", wanted=wanted, tally=tally)
    return len(specs)


def _user_plans(data: dict) -> list[_UserPlan]:
    plans = [_UserPlan("admin", "系统管理员", superuser=True)]
    plans.append(_UserPlan("supervisor", "区督查室督查员", Membership.Role.SUPERVISOR))
    plans.append(_UserPlan("hotline", "12345热线接线员", Membership.Role.HOTLINE_CLIENT))
    for street in data["streets"]:
        head = "主任" if street["kind"] == Street.Kind.STREET else ("镇长" if street["name"].endswith("镇") else "乡长")
        for suffix, role, title in _STREET_USERS:
            title = title or (head if role == Membership.Role.STREET_HEAD else f"副{head}")
            username = f"{street['code'].lower()}_{suffix}"
            plans.append(_UserPlan(username, f"{street['name']}{title}", role, street=street["code"]))
    for unit in (*data["departments"], *data["stations"], *data["enterprises"]):
        for suffix, role, title in _UNIT_USERS:
            plans.append(
                _UserPlan(f"{unit['code'].lower()}_{suffix}", f"{unit['name']}{title}", role, unit=unit["code"])
            )
    return plans


# Drawing the map --------------------------------------------------------------------


def demo_geography_plan(*, streets: list[dict]) -> list[CommunityPlan]:
    """Communities and their grids for these streets: a non-overlapping cover of one district outline.

    The streets' cells are the Voronoi cells of their centres inside the
    outline; each is cut into communities, and each community into grids,
    by Voronoi cells of points scattered inside it. Cells of a Voronoi
    diagram clipped to a convex region are convex, so every piece is a
    simple polygon. The cutting happens in a plane where a degree of
    longitude is as long as a degree of latitude, so that the cells look
    right on a map.
    """
    scale = math.cos(math.radians(sum(s["approx_centre"][1] for s in streets) / len(streets)))
    centres = [(s["approx_centre"][0] * scale, s["approx_centre"][1]) for s in streets]
    outline = shapely.convex_hull(MultiPoint(centres)).buffer(_OUTLINE_MARGIN, quad_segs=4)
    drafts = []  # (street, community number, community name, kind, [grid shapes])
    for street, cell in zip(streets, _split(outline, centres), strict=True):
        rng = random.Random(street["code"])  # nosec B311 # repeatable demo geography, not a secret
        pieces = _split(cell, _scatter(cell, rng.randint(*COMMUNITIES_PER_STREET), rng))
        names, kind = _community_names(street, len(pieces), rng)
        for number, (piece, name) in enumerate(zip(pieces, names, strict=True), start=1):
            shapes = _split(piece, _scatter(piece, rng.randint(*GRIDS_PER_COMMUNITY), rng))
            drafts.append((street, number, name, kind, shapes))
    flat = [shape for *_rest, shapes in drafts for shape in shapes]
    to_wgs84 = np.array([scale, 1.0])
    snapped = iter(_snap_cover(list(shapely.transform(flat, lambda xy: xy / to_wgs84))))
    plans = []
    for street, number, name, kind, shapes in drafts:
        code = f"{street['code']}C{number:02d}"
        grids = tuple(
            GridPlan(f"{code}G{g:02d}", f"{name}第{g}网格", _geojson(next(snapped))) for g in range(1, len(shapes) + 1)
        )
        plans.append(CommunityPlan(street["code"], code, name, kind, grids))
    _check_cover(plans)
    return plans


def _community_names(street: dict, count: int, rng: random.Random) -> tuple[list[str], str]:
    if street["kind"] == Street.Kind.STREET:
        short = street["name"].removesuffix("街道")
        return [f"{short}第{n}社区" for n in range(1, count + 1)], Community.Kind.RESIDENTS
    return rng.sample(_VILLAGE_NAMES, count), Community.Kind.VILLAGERS


def _scatter(region: shapely.Geometry, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """`count` random points inside the region, kept apart so that no cell is a sliver."""
    min_x, min_y, max_x, max_y = region.bounds
    spacing = 0.6 * math.sqrt(region.area / count)
    points: list[tuple[float, float]] = []
    attempts = 0
    while len(points) < count:
        attempts += 1
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if not shapely.contains_xy(region, x, y):
            continue
        # After many misses the region is too thin for the spacing: accept any inside point.
        if attempts < 2000 and any(math.hypot(x - a, y - b) < spacing for a, b in points):
            continue
        points.append((x, y))
    return points


def _split(region: shapely.Geometry, points: list[tuple[float, float]]) -> list[shapely.Geometry]:
    """The region cut into the Voronoi cells of the points, in the order of the points."""
    cells = list(shapely.voronoi_polygons(MultiPoint(points), extend_to=region).geoms)
    ordered = [next(cell for cell in cells if shapely.contains_xy(cell, x, y)) for x, y in points]
    return [shapely.intersection(cell, region) for cell in ordered]


def _snap_cover(shapes: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """The shapes with coordinates rounded to 6 decimals, still without overlaps.

    Rounding each polygon on its own moves a shared edge differently on its
    two sides and opens overlaps of hundreds of m². Instead all edges are
    noded together on the 6-decimal grid and polygonised, so neighbours share
    exactly the same vertices; each face goes back to the shape it lies in.
    """
    edges = shapely.union_all(shapely.boundary(shapes), grid_size=_GRID_SIZE)
    faces = list(shapely.polygonize(list(edges.geoms)).geoms)
    owners = shapely.STRtree(shapes).query_nearest(shapely.point_on_surface(faces), all_matches=False)[1]
    by_shape: dict[int, list[shapely.Geometry]] = {}
    for face, owner in zip(faces, owners, strict=True):
        by_shape.setdefault(int(owner), []).append(face)
    if len(by_shape) != len(shapes):
        raise DemoSeedError(_("A demo grid vanished when its coordinates were rounded."))
    return [
        faces_[0] if len(faces_) == 1 else shapely.union_all(faces_, grid_size=_GRID_SIZE)
        for _index, faces_ in sorted(by_shape.items())
    ]


def _geojson(shape: shapely.Geometry) -> dict:
    """GeoJSON with counter-clockwise outer rings (RFC 7946) and plain lists, as the JSON field gives them back."""
    polygons = [shape] if shape.geom_type == "Polygon" else list(shape.geoms)
    coordinates = [
        [[[round(x, _DECIMALS), round(y, _DECIMALS)] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
        for p in (orient(polygon, sign=1.0) for polygon in polygons)
    ]
    if len(coordinates) == 1:
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}


def _check_cover(plans: list[CommunityPlan]) -> None:
    """The same checks an edit in the admin gets (Grid.clean), once for the whole map."""
    items = [(grid.code, None, parse_boundary(grid.boundary)) for plan in plans for grid in plan.grids]
    overlaps = find_overlaps(items)
    if overlaps:
        code, other, area = overlaps[0]
        raise DemoSeedError(
            _("Demo grid %(grid)s overlaps %(other)s by about %(area)d m².")
            % {"grid": code, "other": other, "area": area}
        )

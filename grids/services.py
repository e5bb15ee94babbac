"""Writes to the geography: importing grids from a GeoJSON FeatureCollection.

An import is all or nothing. Every feature is checked first and every problem
is collected (feature index, grid code, reason), so that an administrator can
fix the whole file in one pass; only a file without problems is written, in
bulk, in one transaction.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import shapely
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.geometry import BoundaryError, find_overlaps, parse_boundary
from grids.locate import bump_grid_version, lock_grid_writes
from grids.models import Community, Grid, Street

NO_CODE = "—"
_BATCH_SIZE = 500  # rows per INSERT


@dataclass(frozen=True)
class GridImportProblem:
    """One reason an import was refused. `index` is the feature's position in the
    file's `features` list (from 0), or None when the problem is the file itself."""

    index: int | None
    code: str
    reason: str

    def __str__(self) -> str:
        if self.index is None:
            return self.reason
        return _("feature #%(index)d (%(code)s): %(reason)s") % {
            "index": self.index,
            "code": self.code,
            "reason": self.reason,
        }


class GridImportError(ValueError):
    """The import was refused and nothing was saved; `problems` lists every reason."""

    def __init__(self, problems: Sequence[GridImportProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    communities_created: int

    @property
    def total(self) -> int:
        return self.created + self.updated


@dataclass
class _Candidate:
    """A feature whose code, street and boundary are usable, so that overlaps can
    be checked even when something else about it is wrong."""

    index: int
    code: str
    name: str | None
    community_code: str | None
    street: Street
    boundary: dict
    geometry: shapely.Geometry


def parse_feature_collection(*, text: str) -> list:
    """The `features` of a GeoJSON FeatureCollection given as text."""

    def refuse(reason: str):
        return GridImportError([GridImportProblem(None, NO_CODE, reason)])

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise refuse(_("the file is not valid JSON: %(detail)s") % {"detail": exc}) from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection":
        raise refuse(
            _("the file is not a GeoJSON FeatureCollection (its type is %(type)s)") % {"type": kind or NO_CODE}
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise refuse(_('the FeatureCollection has no "features" list'))
    if not features:
        raise refuse(_("the FeatureCollection contains no features"))
    return features


@transaction.atomic
def grids_import(
    *,
    features: Sequence[dict],
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """Create or update (by code) one grid per GeoJSON Feature, creating missing communities.

    Raises GridImportError listing every problem when any feature is unusable or
    any new boundary overlaps another grid of its district; nothing is saved then.
    `progress(n)` is called as features are checked.
    """
    lock_grid_writes()
    reader = _FeatureReader()
    candidates: list[_Candidate] = []
    problems: list[GridImportProblem] = []
    for index, feature in enumerate(features):
        code, candidate, reasons = reader.read(index, feature)
        problems.extend(GridImportProblem(index, code, reason) for reason in reasons)
        if candidate is not None:
            candidates.append(candidate)
        if progress is not None:
            progress(1)

    existing = list(Grid.objects.values_list("pk", "code", "community__street__district_id", "boundary"))
    problems.extend(_overlap_problems(candidates, existing, replaced=reader.codes))
    if problems:
        problems.sort(key=lambda problem: -1 if problem.index is None else problem.index)
        raise GridImportError(problems)

    new_communities = reader.new_communities()
    # PostgreSQL and SQLite both return the new primary keys from a bulk insert.
    Community.objects.bulk_create(new_communities, batch_size=_BATCH_SIZE)
    community_ids = {community.code: community.pk for community in [*reader.communities.values(), *new_communities]}
    pk_by_code = {code: pk for pk, code, _district, _boundary in existing}
    # No now= argument: auto_now stamps created grids with the clock anyway (tests travel with time_machine).
    now = timezone.now()
    to_create, to_update = [], []
    for candidate in candidates:
        grid = Grid(
            pk=pk_by_code.get(candidate.code),
            code=candidate.code,
            name=candidate.name,
            community_id=community_ids[candidate.community_code],
            boundary=candidate.boundary,
            updated_at=now,
        )
        (to_update if grid.pk else to_create).append(grid)
    Grid.objects.bulk_create(to_create, batch_size=_BATCH_SIZE)
    _update_grids(to_update)
    # Bulk writes send no post_save, so the location index is told here, once.
    bump_grid_version()
    return ImportResult(created=len(to_create), updated=len(to_update), communities_created=len(new_communities))


def _update_grids(grids: Sequence[Grid]) -> None:
    """Save name, community, boundary and updated_at of existing grids in one executemany.

    Django's bulk_update builds a CASE branch per row and field in Python,
    about 1 ms a row (6 s for 5,000 grids); one parameterised UPDATE run for
    every row does the same in a fraction of that. Values go through each
    field's own adaptation, as in save(). Like bulk_update, it sends no signals.
    """
    if not grids:
        return
    fields = [Grid._meta.get_field(name) for name in ("name", "community", "boundary", "updated_at")]
    quote = connection.ops.quote_name
    # Names from the model's own metadata, quoted; every value is a parameter.
    sql = "UPDATE {table} SET {columns} WHERE {pk} = %s".format(  # nosec B608
        table=quote(Grid._meta.db_table),
        columns=", ".join(f"{quote(field.column)} = %s" for field in fields),
        pk=quote(Grid._meta.pk.column),
    )
    rows = [
        [field.get_db_prep_save(getattr(grid, field.attname), connection) for field in fields] + [grid.pk]
        for grid in grids
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class _FeatureReader:
    """Checks features one at a time, remembering what earlier features claimed:
    their grid codes and the communities they create."""

    def __init__(self):
        # Whole tables (a district has tens of streets and hundreds of
        # communities): one query each, and no limit on the number of codes.
        self.streets = {street.code: street for street in Street.objects.all()}
        self.communities = {community.code: community for community in Community.objects.select_related("street")}
        self.codes: dict[str, int] = {}  # grid code -> first feature that has it
        self._planned: dict[str, tuple[int, Community]] = {}  # new community code -> (first feature, community)

    def new_communities(self) -> list[Community]:
        return [community for _index, community in self._planned.values()]

    def read(self, index: int, feature) -> tuple[str, _Candidate | None, list[str]]:
        """(grid code or NO_CODE, candidate for the overlap check or None, reasons to refuse)."""
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            return NO_CODE, None, [_("this is not a GeoJSON Feature object")]
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            return NO_CODE, None, [_('the "properties" of the feature are not an object')]

        reasons: list[str] = []
        code = self._text(
            properties, "code", Grid, "code", reasons, lambda: _('the grid code (property "code") is missing or empty')
        )
        name = self._text(
            properties, "name", Grid, "name", reasons, lambda: _('the grid name (property "name") is missing or empty')
        )
        street_code = self._text(
            properties,
            "street",
            Street,
            "code",
            reasons,
            lambda: _('the street code (property "street") is missing or empty'),
        )
        community_code = self._text(
            properties,
            "community",
            Community,
            "code",
            reasons,
            lambda: _('the community code (property "community") is missing or empty'),
        )
        unique = code is not None and self.codes.setdefault(code, index) == index
        if code is not None and not unique:
            reasons.append(
                _("grid code %(code)s already appears in feature #%(index)d")
                % {"code": code, "index": self.codes[code]}
            )
        street = None
        if street_code is not None:
            street = self.streets.get(street_code)
            if street is None:
                reasons.append(_("street %(street)s does not exist") % {"street": street_code})
        if street is not None and community_code is not None:
            reasons.extend(self._check_community(index, properties, community_code, street))
        try:
            geometry = parse_boundary(feature.get("geometry"))
        except BoundaryError as exc:
            reasons.append(str(exc))
            geometry = None

        label = code if code is not None else NO_CODE
        if not unique or street is None or geometry is None:
            return label, None, reasons
        candidate = _Candidate(
            index=index,
            code=code,
            name=name,
            community_code=community_code,
            street=street,
            boundary=feature["geometry"],
            geometry=geometry,
        )
        return label, candidate, reasons

    @staticmethod
    def _text(
        properties: dict, key: str, model, field: str, reasons: list[str], missing: Callable[[], str]
    ) -> str | None:
        """The stripped text of a property that must be a non-empty string fitting the model field.

        `missing` makes the message only when needed: translating it for every
        feature of a large file would cost more than the check itself.
        """
        value = properties.get(key)
        value = value.strip() if isinstance(value, str) else None
        if not value:
            reasons.append(missing())
            return None
        limit = model._meta.get_field(field).max_length
        if len(value) > limit:
            reasons.append(
                _('property "%(property)s" is longer than %(limit)d characters') % {"property": key, "limit": limit}
            )
            return None
        return value

    def _check_community(self, index: int, properties: dict, code: str, street: Street) -> list[str]:
        """Reasons the community is unusable; plans its creation when it is new."""
        existing = self.communities.get(code)
        if existing is not None:
            if existing.street_id != street.pk:
                return [
                    _("community %(community)s belongs to street %(actual)s, not to %(street)s")
                    % {
                        "community": code,
                        "actual": existing.street.code,
                        "street": street.code,
                    }
                ]
            return []
        reasons: list[str] = []
        name = self._text(
            properties,
            "community_name",
            Community,
            "name",
            reasons,
            lambda: (
                _('community %(community)s does not exist; give its name in property "community_name" to create it')
                % {"community": code}
            ),
        )
        if name is None:
            return reasons
        planned = self._planned.get(code)
        if planned is None:
            self._planned[code] = (index, Community(code=code, name=name, street=street))
            return []
        first, community = planned
        if community.street_id != street.pk:
            reasons.append(
                _(
                    "community %(community)s is created under street %(other)s by feature #%(index)d, not under %(street)s"
                )
                % {
                    "community": code,
                    "other": community.street.code,
                    "index": first,
                    "street": street.code,
                }
            )
        if community.name != name:
            reasons.append(
                _('community %(community)s is named "%(other)s" by feature #%(index)d, not "%(name)s"')
                % {
                    "community": code,
                    "other": community.name,
                    "index": first,
                    "name": name,
                }
            )
        return reasons


def _overlap_problems(
    candidates: Sequence[_Candidate],
    existing: Sequence[tuple[int, str, int, object]],
    *,
    replaced: dict[str, int],
) -> list[GridImportProblem]:
    """Overlaps of the file's grids with each other and with the existing grids they do not replace."""
    items = []
    for _pk, code, district_id, boundary in existing:
        if code in replaced:
            continue
        try:
            items.append((code, district_id, parse_boundary(boundary)))
        except BoundaryError:
            # A stored boundary from before the checks existed: nothing can be
            # measured against it, and refusing every import for it would not
            # fix it. Editing that grid in the admin will report it.
            continue
    first_new = len(items)
    items.extend((candidate.code, candidate.street.district_id, candidate.geometry) for candidate in candidates)
    by_code = {candidate.code: candidate for candidate in candidates}

    problems = []
    for code, other, area in find_overlaps(items, only=range(first_new, len(items))):
        area = round(area)
        mine, theirs = by_code.get(code), by_code.get(other)
        if mine is None:
            mine, theirs, other = theirs, None, code
        if theirs is None:
            reason = _("overlaps existing grid %(other)s by about %(area)d m²") % {"other": other, "area": area}
            problems.append(GridImportProblem(mine.index, mine.code, reason))
            continue
        # Reported once, on the later feature, naming the earlier one.
        earlier, later = sorted((mine, theirs), key=lambda candidate: candidate.index)
        reason = _("overlaps grid %(other)s of feature #%(index)d by about %(area)d m²") % {
            "other": earlier.code,
            "index": earlier.index,
            "area": area,
        }
        problems.append(GridImportProblem(later.index, later.code, reason))
    return problems

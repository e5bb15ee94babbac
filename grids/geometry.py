"""Grid boundaries: parsing GeoJSON into shapely geometries and checking them.

Every message names the rule that was broken, so that an administrator can
fix the boundary file without reading code.
"""

import json
import math
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape as geojson_shape
from shapely.validation import explain_validity

ALLOWED_TYPES = ("Polygon", "MultiPolygon")
MINIMUM_AREA_M2 = 1
_METRES_PER_DEGREE_LAT = 110_574.0
_METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


class BoundaryError(ValueError):
    """A boundary that cannot be a grid; the message says why."""


def parse_boundary(value) -> shapely.Geometry:
    """Turn GeoJSON (a dict or its text) into a valid, non-empty (Multi)Polygon."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            raise BoundaryError(_("the boundary is not valid JSON")) from None
    if not isinstance(value, dict):
        raise BoundaryError(_("the boundary must be a GeoJSON geometry object"))
    kind = value.get("type")
    if kind not in ALLOWED_TYPES:
        raise BoundaryError(
            _("geometry type %(type)s is not allowed; use Polygon or MultiPolygon") % {"type": kind or "—"}
        )
    coordinates = value.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise BoundaryError(_("the boundary has no coordinates"))
    _check_positions(coordinates, depth=2 if kind == "Polygon" else 3)
    try:
        geometry = geojson_shape(value)
    except (GEOSException, ValueError, TypeError, IndexError) as exc:
        raise BoundaryError(_("the coordinates do not form a polygon (%(detail)s)") % {"detail": exc}) from None
    if geometry.is_empty:
        raise BoundaryError(_("the boundary is empty: it encloses no area"))
    if not geometry.is_valid:
        raise BoundaryError(
            _("the boundary is not a valid polygon: %(reason)s") % {"reason": explain_validity(geometry)}
        )
    if area_m2(geometry) < MINIMUM_AREA_M2:
        # Exactly zero is rare in floating point: near-collinear rings pass
        # the validity check with a few square millimetres.
        raise BoundaryError(
            _("the boundary encloses less than %(minimum)d m²: it is a line, not an area")
            % {"minimum": MINIMUM_AREA_M2}
        )
    return geometry


def _check_positions(coordinates, depth: int) -> None:
    """Positions are [lon, lat] numbers inside the WGS 84 ranges."""
    if depth == 0:
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise BoundaryError(_("a position must be [longitude, latitude]"))
        lon, lat = coordinates[0], coordinates[1]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
            raise BoundaryError(_("a position must be [longitude, latitude] numbers"))
        if not -180 <= lon <= 180:
            raise BoundaryError(_("longitude %(value)s is outside −180…180") % {"value": lon})
        if not -90 <= lat <= 90:
            raise BoundaryError(_("latitude %(value)s is outside −90…90") % {"value": lat})
        return
    if not isinstance(coordinates, list) or not coordinates:
        raise BoundaryError(_("the coordinates are not nested as the geometry type requires"))
    for item in coordinates:
        _check_positions(item, depth - 1)


def area_m2(geometry: shapely.Geometry) -> float:
    """Area in square metres, projected around the geometry's own latitude (good at district scale)."""
    if geometry.is_empty:
        return 0.0
    lat = geometry.centroid.y
    return geometry.area * _METRES_PER_DEGREE_LAT * _METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat))


def find_overlaps(
    items: Sequence[tuple[str, object, shapely.Geometry]],
    *,
    only: Iterable[int] | None = None,
    tolerance_m2: float | None = None,
) -> list[tuple[str, str, float]]:
    """Pairs of grids of one district that overlap by more than the tolerance.

    `items` are (code, district key, geometry); `only` restricts the check to
    pairs involving those positions (the grids being added). Returns
    (code, other code, overlap in m²) per offending pair, each pair once.
    """
    if tolerance_m2 is None:
        tolerance_m2 = settings.GRID_OVERLAP_TOLERANCE_M2
    if not items:
        return []
    geometries = [geometry for _code, _district, geometry in items]
    tree = shapely.STRtree(geometries)
    probes = sorted(set(only)) if only is not None else list(range(len(items)))
    if not probes:
        return []
    probe_idx, hit_idx = tree.query([geometries[i] for i in probes], predicate="intersects")
    found, seen = [], set()
    for p, h in zip(np.asarray(probes)[probe_idx], hit_idx, strict=True):
        p, h = int(p), int(h)
        pair = (min(p, h), max(p, h))
        if p == h or pair in seen or items[p][1] != items[h][1]:
            continue
        seen.add(pair)
        overlap = area_m2(shapely.intersection(geometries[p], geometries[h]))
        if overlap > tolerance_m2:
            found.append((items[p][0], items[h][0], overlap))
    return found

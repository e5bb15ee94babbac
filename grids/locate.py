"""Point-in-grid lookup through a shapely STRtree.

The tree is built once per process and kept until the grid version stamp
(GridIndexVersion, renewed in the same transaction as any grid change)
differs; each lookup pays one primary-key read to check it, a batch pays one.
"""

import math
from collections.abc import Sequence

import numpy as np
import shapely

from config.stamps import StampedCache, read_stamp, renew_stamp
from grids.geometry import parse_boundary
from grids.models import Grid, GridIndexVersion


class GridIndex:
    """Immutable snapshot of every grid's shape, in code order.

    Grids are loaded with their community, street and district, so a lookup
    needs no further query. The instances are shared: treat them as read-only.
    """

    def __init__(self, grids: Sequence[Grid], version: int):
        self.version = version
        self.grids = list(grids)
        self.geometries = [parse_boundary(grid.boundary) for grid in self.grids]
        self.tree = shapely.STRtree(self.geometries)

    def __len__(self):
        return len(self.grids)

    def locate(self, lon: float, lat: float) -> Grid | None:
        if not _in_range(lon, lat):
            return None
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        # A point on an edge shared by two grids belongs to the one whose code
        # sorts first, so the answer never depends on the tree's layout.
        return self.grids[int(hits.min())] if len(hits) else None

    def locate_many(self, points: Sequence[tuple[float, float]]) -> list[Grid | None]:
        result: list[Grid | None] = [None] * len(points)
        if not len(points) or not self.grids:
            return result
        coords = np.asarray(points, dtype=float).reshape(-1, 2)
        valid = np.isfinite(coords).all(axis=1) & (np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90)
        positions = np.flatnonzero(valid)
        point_idx, grid_idx = self.tree.query(shapely.points(coords[positions]), predicate="intersects")
        # Keep the lowest grid position per point (same tie rule as locate()).
        order = np.lexsort((grid_idx, point_idx))
        point_idx, grid_idx = point_idx[order], grid_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        for p, g in zip(point_idx[first], grid_idx[first], strict=True):
            result[int(positions[p])] = self.grids[int(g)]
        return result


def _in_range(lon, lat) -> bool:
    try:
        return math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
    except TypeError:
        return False


def grid_version() -> int:
    return read_stamp(GridIndexVersion)


def bump_grid_version() -> None:
    """Tell every process its index is stale; call inside the transaction that changed grids."""
    renew_stamp(GridIndexVersion)


def lock_grid_writes() -> None:
    """Make writers of grids queue up, inside their transaction.

    An overlap check reads every grid and the write comes later: two writers
    running together could each pass the check and together save overlapping
    grids. Locking the version row (which every grid change updates anyway)
    serialises them. A no-op on SQLite, which serialises writers itself.
    """
    list(GridIndexVersion.objects.select_for_update().filter(pk=1).values_list("pk", flat=True))


_index: StampedCache[GridIndex] = StampedCache(
    GridIndexVersion,
    lambda stamp: GridIndex(Grid.objects.select_related("community__street__district").order_by("code"), stamp),
)


def current_index() -> GridIndex:
    """This process's index of every grid, rebuilt when the grid version stamp changed."""
    return _index.get()


def locate(lon: float, lat: float) -> Grid | None:
    """The grid containing the point (with community and street), or None when no grid does."""
    return current_index().locate(lon, lat)


def locate_many(points: Sequence[tuple[float, float]]) -> list[Grid | None]:
    """locate() for many points at once: one version check and one vectorised tree query."""
    return current_index().locate_many(points)

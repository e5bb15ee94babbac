"""Point-to-grid lookups per second: STRtree index against a brute-force scan.

Runs on a throw-away SQLite database (its own VAR_DIR in a temporary folder),
so it never touches the configured one:

    .venv/bin/python bench/locate.py [--points 20000] [--grids 5000]

Two data sets: the demo district (seed_demo) and a lattice of synthetic grids.
For each it prints lookups/s of
  - locate(lon, lat): one call per point, including the version check query,
  - the in-memory index alone (what a batch job holding the index pays),
  - locate_many(points): one version check and one vectorised tree query,
  - the baseline: scan every polygon for each point (shapely, vectorised over
    the polygons), and the ratio of each figure to it.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ["VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, repeat: int = 3) -> float:
    """Median wall time of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_points(index, count: int, rng) -> list[tuple[float, float]]:
    """Points spread over the grids' bounding box (some fall on no grid, as in real life)."""
    import shapely

    min_x, min_y, max_x, max_y = shapely.total_bounds(index.geometries)
    return [(rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)) for _ in range(count)]


def measure(label: str, points: list[tuple[float, float]]) -> None:
    import numpy as np
    import shapely

    from grids.locate import current_index, locate, locate_many

    index = current_index()
    geometries = np.array(index.geometries, dtype=object)
    shapely.prepare(geometries)
    n = len(points)

    def brute_force_one(lon, lat):
        hits = np.flatnonzero(shapely.intersects(geometries, shapely.Point(lon, lat)))
        return index.grids[hits[0]] if len(hits) else None

    def single():
        for lon, lat in points:
            locate(lon, lat)

    def in_memory():
        for lon, lat in points:
            index.locate(lon, lat)

    def batched():
        locate_many(points)

    # The three must agree with the baseline before their speed means anything.
    expected = [grid and grid.code for grid in (brute_force_one(*p) for p in points[:500])]
    assert [g and g.code for g in locate_many(points[:500])] == expected
    assert [g and g.code for g in (locate(*p) for p in points[:500])] == expected

    # The scan is slow: time it on a slice of the points.
    baseline_points = points[:2000]
    base_rate = len(baseline_points) / timed(lambda: [brute_force_one(*p) for p in baseline_points])
    rows = [
        ("locate() per point, with version check", n / timed(single)),
        ("index.locate() per point, in memory", n / timed(in_memory)),
        ("locate_many() batched", n / timed(batched)),
    ]
    print(f"\n{label}: {len(index)} grids, {n} points")
    print(f"  {'brute-force scan of every polygon':<42} {base_rate:>12,.0f} lookups/s   1.0×  (baseline)")
    for name, rate in rows:
        print(f"  {name:<42} {rate:>12,.0f} lookups/s {rate / base_rate:>6.1f}×")


def synthetic_grids(count: int) -> None:
    """Replace all grids with a lattice of `count` squares in one district."""
    import math

    from django.db import transaction

    from grids.locate import bump_grid_version
    from grids.models import Community, District, Grid, Street

    columns = math.ceil(math.sqrt(count))
    size = 0.002
    with transaction.atomic():
        Grid.objects.all().delete()
        district, _ = District.objects.get_or_create(code="BENCH", defaults={"name": "bench"})
        street, _ = Street.objects.get_or_create(code="BENCH-S", defaults={"name": "bench", "district": district})
        community, _ = Community.objects.get_or_create(code="BENCH-C", defaults={"name": "bench", "street": street})
        grids = []
        for i in range(count):
            x, y = 115.9 + (i % columns) * size, 40.4 + (i // columns) * size
            ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
            grids.append(
                Grid(
                    community=community,
                    code=f"B{i:05d}",
                    name=f"bench {i}",
                    boundary={"type": "Polygon", "coordinates": [ring]},
                )
            )
        Grid.objects.bulk_create(grids, batch_size=1000)
        bump_grid_version()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--grids", type=int, default=5_000)
    args = parser.parse_args()

    import random

    rng = random.Random(2026)
    with tempfile.TemporaryDirectory(prefix="bench-locate-") as var_dir:
        setup_django(var_dir)
        from django.core.management import call_command

        from grids.locate import current_index

        call_command("seed_demo", verbosity=0)
        measure("demo district", random_points(current_index(), args.points, rng))
        synthetic_grids(args.grids)
        measure("synthetic lattice", random_points(current_index(), args.points, rng))


if __name__ == "__main__":
    main()

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

import grids.locate
from grids.locate import locate
from grids.models import Community, Grid, GridIndexVersion
from grids.services import GridImportError, grids_import
from tests.factories import CommunityFactory, GridFactory, StreetFactory, square


@pytest.fixture(autouse=True)
def english():
    # Assert on the English source strings, whatever translations arrive later.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_location_index():
    # The index is cached per process by version, and a test's rollback brings
    # back the version of the empty database: start each test with no index.
    grids.locate._index.clear()


def feature(code, lon=116.0, lat=40.0, *, geometry=None, **properties):
    properties = {"street": "S01", "community": "S01C01", "code": code, "name": f"网格 {code}", **properties}
    return {
        "type": "Feature",
        "properties": {key: value for key, value in properties.items() if value is not None},
        "geometry": geometry or square(lon, lat),
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


@pytest.fixture
def write_geojson(tmp_path):
    def write(data, name="grids.geojson"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def run_import(write_geojson):
    """Run the command on `data`; return (stdout, stderr, CommandError or None)."""

    def run(data):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_grids", write_geojson(data), "--no-progress", stdout=out, stderr=err)
        except CommandError as exc:
            return out.getvalue(), err.getvalue(), exc
        return out.getvalue(), err.getvalue(), None

    return run


def saved_state():
    """What a refused import must leave alone: grid and community counts and the index version."""
    return Grid.objects.count(), Community.objects.count(), GridIndexVersion.objects.get(pk=1).version


def refused(data, run_import) -> list[str]:
    """Run the command, expect a refusal that saved nothing; return the problem lines."""
    before = saved_state()
    out, err, error = run_import(data)
    assert error is not None, out
    assert "nothing was imported" in str(error)
    assert saved_state() == before
    return err.splitlines()


# Successful imports


def test_import_creates_grids_and_new_community_found_by_locate(street, community, run_import):
    assert locate(116.005, 40.005) is None  # the index is built, and must notice the import
    data = collection(
        feature("S01C01G01", 116.0, 40.0),
        feature("S01C02G01", 116.01, 40.0, community="S01C02", community_name="新社区"),
        feature("S01C02G02", 116.02, 40.0, community="S01C02", community_name="新社区"),
    )

    out, _err, error = run_import(data)

    assert error is None
    assert "3 created, 0 updated; 1 communities created" in out
    new = Community.objects.get(code="S01C02")
    assert (new.name, new.street) == ("新社区", street)
    assert set(Grid.objects.values_list("code", "community__code")) == {
        ("S01C01G01", "S01C01"),
        ("S01C02G01", "S01C02"),
        ("S01C02G02", "S01C02"),
    }
    found = locate(116.015, 40.005)
    assert found is not None and found.code == "S01C02G01"
    assert found.community.code == "S01C02"


def test_reimport_updates_grids_by_code(street, community, run_import):
    other = CommunityFactory(street=street, code="S01C02")
    GridFactory(community=community, code="S01C01G01", name="旧名", boundary=square(116.0, 40.0))
    assert locate(116.005, 40.005).code == "S01C01G01"
    # Moved onto the ground it used to share with nothing: no overlap with its old self.
    data = collection(
        feature("S01C01G01", 116.005, 40.0, name="新名", community="S01C02"),
        feature("S01C01G02", 116.1, 40.0),
    )

    out, _err, error = run_import(data)

    assert error is None
    assert "1 created, 1 updated" in out
    grid = Grid.objects.get(code="S01C01G01")
    assert (grid.name, grid.community, grid.boundary) == ("新名", other, square(116.005, 40.0))
    assert Grid.objects.count() == 2
    assert locate(116.001, 40.005) is None
    assert locate(116.012, 40.005).code == "S01C01G01"


def test_import_through_the_service_reports_progress_and_stamps_the_time(community):
    GridFactory(community=community, code="S01C01G01")
    calls = []
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    with time_machine.travel(now, tick=False):
        result = grids_import(features=[feature("S01C01G01"), feature("S01C01G02", 116.01)], progress=calls.append)

    assert (result.created, result.updated, result.communities_created) == (1, 1, 0)
    assert sum(calls) == 2
    assert set(Grid.objects.values_list("updated_at", flat=True)) == {now}


def test_import_of_many_grids_uses_a_bounded_number_of_queries(community, django_assert_max_num_queries):
    # 1,200 touching squares: neighbours share edges, which is not an overlap.
    features = [feature(f"G{i:05d}", 116.0 + (i % 40) * 0.01, 40.0 + (i // 40) * 0.01) for i in range(1200)]

    with django_assert_max_num_queries(25):
        result = grids_import(features=features)

    assert result.created == 1200
    with django_assert_max_num_queries(25):
        result = grids_import(features=features)
    assert result.updated == 1200


# The file itself


def test_file_that_is_not_json_is_refused(community, run_import):
    before = saved_state()

    _out, _err, error = run_import("{ this is not json")

    assert error is not None
    assert re.search(r"grids\.geojson: the file is not valid JSON: .*line 1 column 3", str(error))
    assert saved_state() == before


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_grids", str(tmp_path / "absent.geojson"), "--no-progress")


@pytest.mark.parametrize(
    "data, reason",
    [
        (
            {"type": "Feature", "properties": {}, "geometry": square(116, 40)},
            "not a GeoJSON FeatureCollection (its type is Feature)",
        ),
        ([1, 2], "not a GeoJSON FeatureCollection (its type is list)"),
        ({"type": "FeatureCollection"}, 'has no "features" list'),
        ({"type": "FeatureCollection", "features": []}, "contains no features"),
    ],
)
def test_file_that_is_not_a_feature_collection_is_refused(data, reason, community, run_import):
    before = saved_state()

    _out, _err, error = run_import(data)

    assert error is not None
    assert reason in str(error)
    assert saved_state() == before


def test_item_that_is_not_a_feature_is_refused(community, run_import):
    data = collection(feature("S01C01G01"), square(116.1, 40.0), "text")

    assert refused(data, run_import) == [
        "feature #1 (—): this is not a GeoJSON Feature object",
        "feature #2 (—): this is not a GeoJSON Feature object",
    ]


# Properties


def test_missing_code_or_name_is_refused(community, run_import):
    data = collection(feature(None), feature("", 116.1), feature("S01C01G03", 116.2, name="  "))

    assert refused(data, run_import) == [
        'feature #0 (—): the grid code (property "code") is missing or empty',
        'feature #1 (—): the grid code (property "code") is missing or empty',
        'feature #2 (S01C01G03): the grid name (property "name") is missing or empty',
    ]


def test_code_longer_than_the_column_is_refused(community, run_import):
    assert refused(collection(feature("G" * 33)), run_import) == [
        'feature #0 (—): property "code" is longer than 32 characters',
    ]


def test_duplicate_code_in_the_file_is_refused(community, run_import):
    data = collection(feature("S01C01G01"), feature("S01C01G02", 116.1), feature("S01C01G01", 116.2))

    assert refused(data, run_import) == [
        "feature #2 (S01C01G01): grid code S01C01G01 already appears in feature #0",
    ]


def test_unknown_street_is_refused(community, run_import):
    data = collection(feature("S01C01G01"), feature("S09C01G01", 116.1, street="S09"))

    assert refused(data, run_import) == ["feature #1 (S09C01G01): street S09 does not exist"]


def test_missing_community_is_refused_and_no_community_is_created(street, run_import):
    data = collection(
        feature("S01C05G01", community="S01C05", community_name="新社区"),  # fine on its own
        feature("S01C06G01", 116.1, community="S01C06"),
        feature("S01C07G01", 116.2, community=None),
    )

    assert refused(data, run_import) == [
        'feature #1 (S01C06G01): community S01C06 does not exist; give its name in property "community_name" to create it',
        'feature #2 (S01C07G01): the community code (property "community") is missing or empty',
    ]
    assert not Community.objects.filter(code="S01C05").exists()


def test_community_of_another_street_is_refused(district, community, run_import):
    StreetFactory(district=district, code="S02")
    data = collection(
        feature("S02C01G01", street="S02"),
        feature("S02C09G01", 116.1, street="S02", community="S02C09", community_name="甲"),
        feature("S01C09G01", 116.2, community="S02C09", community_name="甲"),
    )

    assert refused(data, run_import) == [
        "feature #0 (S02C01G01): community S01C01 belongs to street S01, not to S02",
        "feature #2 (S01C09G01): community S02C09 is created under street S02 by feature #1, not under S01",
    ]


# Boundaries (checked by grids.geometry.parse_boundary)


@pytest.mark.parametrize(
    "geometry, kind",
    [
        ({"type": "Point", "coordinates": [116.0, 40.0]}, "Point"),
        ({"type": "LineString", "coordinates": [[116.0, 40.0], [116.01, 40.01]]}, "LineString"),
    ],
)
def test_wrong_geometry_type_is_refused(geometry, kind, community, run_import):
    data = collection(feature("S01C01G01"), feature("S01C01G02", geometry=geometry))

    assert refused(data, run_import) == [
        f"feature #1 (S01C01G02): geometry type {kind} is not allowed; use Polygon or MultiPolygon",
    ]


def test_self_intersecting_polygon_is_refused(community, run_import):
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[116.1, 40.0], [116.11, 40.01], [116.11, 40.0], [116.1, 40.01], [116.1, 40.0]]],
    }
    data = collection(feature("S01C01G01"), feature("S01C01G02", geometry=bow_tie))

    [line] = refused(data, run_import)

    assert line.startswith("feature #1 (S01C01G02): the boundary is not a valid polygon: Self-intersection[")


def test_coordinates_out_of_range_are_refused(community, run_import):
    data = collection(feature("S01C01G01", 200.0, 40.0), feature("S01C01G02", 116.0, 95.0))

    assert refused(data, run_import) == [
        "feature #0 (S01C01G01): longitude 200.0 is outside −180…180",
        "feature #1 (S01C01G02): latitude 95.0 is outside −90…90",
    ]


def test_missing_or_empty_geometry_is_refused(community, run_import):
    no_geometry = {**feature("S01C01G01"), "geometry": None}
    no_coordinates = feature("S01C01G02", geometry={"type": "Polygon", "coordinates": []})

    assert refused(collection(no_geometry, no_coordinates), run_import) == [
        "feature #0 (S01C01G01): the boundary must be a GeoJSON geometry object",
        "feature #1 (S01C01G02): the boundary has no coordinates",
    ]


# Overlaps


def test_grids_overlapping_within_the_file_are_refused(community, run_import):
    data = collection(
        feature("S01C01G01", 116.0, 40.0),
        feature("S01C01G02", 116.01, 40.0),  # touches G01: allowed
        feature("S01C01G03", 116.005, 40.0),  # half over G01, half over G02
    )

    lines = refused(data, run_import)

    assert len(lines) == 2
    for line, other, index in zip(sorted(lines), ["S01C01G01", "S01C01G02"], [0, 1], strict=True):
        assert re.fullmatch(
            rf"feature #2 \(S01C01G03\): overlaps grid {other} of feature #{index} by about \d+ m²", line
        )
        assert int(re.search(r"about (\d+)", line)[1]) > 400_000  # half of a 0.01° square at 40° N


def test_grid_overlapping_an_existing_grid_is_refused(community, run_import):
    GridFactory(community=community, code="S01C01G09", boundary=square(116.0, 40.0))
    data = collection(feature("S01C01G01", 116.005, 40.005), feature("S01C01G02", 116.5, 40.0))

    [line] = refused(data, run_import)

    assert re.fullmatch(r"feature #0 \(S01C01G01\): overlaps existing grid S01C01G09 by about \d+ m²", line)


def test_overlap_with_a_grid_of_another_district_is_allowed(community, run_import):
    far_street = StreetFactory(district__code="OTHER", district__name="外区", code="X01")
    GridFactory(
        community=CommunityFactory(street=far_street, code="X01C01"), code="X01C01G01", boundary=square(116.0, 40.0)
    )

    _out, _err, error = run_import(collection(feature("S01C01G01", 116.005, 40.005)))

    assert error is None
    assert Grid.objects.filter(code="S01C01G01").exists()


# All problems at once


def test_every_problem_of_the_file_is_reported_in_order(community, run_import):
    data = collection(
        feature("S01C01G01", 116.0, 40.0),
        feature(None, 300.0, 40.0, street="S09"),
        feature("S01C01G03", 116.005, 40.0, name=None),
        feature("S01C01G04", geometry={"type": "Point", "coordinates": [116.0, 40.0]}),
    )

    lines = refused(data, run_import)

    assert lines[:4] == [
        'feature #1 (—): the grid code (property "code") is missing or empty',
        "feature #1 (—): street S09 does not exist",
        "feature #1 (—): longitude 300.0 is outside −180…180",
        'feature #2 (S01C01G03): the grid name (property "name") is missing or empty',
    ]
    assert lines[4].startswith("feature #2 (S01C01G03): overlaps grid S01C01G01 of feature #0 by about")
    assert lines[5:] == ["feature #3 (S01C01G04): geometry type Point is not allowed; use Polygon or MultiPolygon"]


def test_service_error_lists_problems_with_index_code_and_reason(community):
    with pytest.raises(GridImportError) as caught:
        grids_import(features=[feature("S01C01G01"), feature("S01C01G01", 116.1)])

    [problem] = caught.value.problems
    assert (problem.index, problem.code) == (1, "S01C01G01")
    assert problem.reason == "grid code S01C01G01 already appears in feature #0"
    assert Grid.objects.count() == 0

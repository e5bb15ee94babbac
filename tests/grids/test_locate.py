import pytest

from grids.locate import bump_grid_version, current_index, locate, locate_many
from tests.factories import CommunityFactory, GridFactory, square

DONUT = {
    "type": "Polygon",
    "coordinates": [
        [[116.0, 40.0], [116.03, 40.0], [116.03, 40.03], [116.0, 40.03], [116.0, 40.0]],
        [[116.01, 40.01], [116.02, 40.01], [116.02, 40.02], [116.01, 40.02], [116.01, 40.01]],
    ],
}


@pytest.fixture
def west_and_east(community):
    """Two grids side by side, sharing the edge at longitude 116.01."""
    return (
        GridFactory(community=community, code="S01C01G01", boundary=square(116.0, 40.0, 0.01)),
        GridFactory(community=community, code="S01C01G02", boundary=square(116.01, 40.0, 0.01)),
    )


def test_a_point_inside_a_grid_finds_it_with_its_community_and_street(west_and_east, django_assert_num_queries):
    current_index()

    with django_assert_num_queries(1):  # the version check only
        grid = locate(116.015, 40.005)

    assert grid.code == "S01C01G02"
    assert grid.community.code == "S01C01"
    assert grid.community.street.code == "S01"


def test_a_point_on_a_shared_edge_belongs_to_the_grid_whose_code_sorts_first(west_and_east):
    assert locate(116.01, 40.005).code == "S01C01G01"
    assert locate_many([(116.01, 40.005)])[0].code == "S01C01G01"


def test_a_point_in_a_hole_or_outside_every_grid_finds_none(community):
    GridFactory(community=community, code="S01C01G01", boundary=DONUT)

    assert locate(116.015, 40.015) is None  # in the hole
    assert locate(116.005, 40.005).code == "S01C01G01"  # in the ring
    assert locate(117.0, 41.0) is None  # outside


def test_a_grid_filling_the_hole_of_another_is_found_there(community):
    GridFactory(community=community, code="S01C01G01", boundary=DONUT)
    GridFactory(community=community, code="S01C01G02", boundary=square(116.01, 40.01, 0.01))

    assert locate(116.015, 40.015).code == "S01C01G02"


@pytest.mark.parametrize("lon, lat", [(float("nan"), 40.0), (200.0, 40.0), (116.0, -95.0), (None, 40.0)])
def test_impossible_coordinates_find_none_instead_of_failing(west_and_east, lon, lat):
    assert locate(lon, lat) is None


def test_batch_lookup_answers_each_point_in_order(west_and_east):
    found = locate_many([(116.005, 40.005), (117.0, 41.0), (116.015, 40.005), (float("nan"), 0.0)])

    assert [grid and grid.code for grid in found] == ["S01C01G01", None, "S01C01G02", None]


def test_the_index_is_rebuilt_when_a_grid_changes_and_only_then(west_and_east, django_assert_num_queries):
    west, _east = west_and_east
    first = current_index()
    assert current_index() is first

    west.boundary = square(116.0, 40.0, 0.005)
    west.save()

    assert current_index() is not first
    assert locate(116.008, 40.008) is None


def test_a_new_grid_and_a_deleted_grid_are_seen_at_the_next_lookup(west_and_east):
    west, _east = west_and_east
    assert locate(116.025, 40.005) is None

    GridFactory(community=west.community, code="S01C01G03", boundary=square(116.02, 40.0, 0.01))
    assert locate(116.025, 40.005).code == "S01C01G03"

    west.delete()
    assert locate(116.005, 40.005) is None


def test_renaming_a_street_refreshes_the_cached_grids(west_and_east):
    street = west_and_east[0].community.street
    assert locate(116.005, 40.005).community.street.name == "百泉街道"

    street.name = "百泉街道（新）"
    street.save()

    assert locate(116.005, 40.005).community.street.name == "百泉街道（新）"


def test_bumping_the_version_by_hand_rebuilds_once(west_and_east):
    first = current_index()
    bump_grid_version()
    second = current_index()

    assert second is not first and second.version != first.version
    assert current_index() is second


def test_an_empty_district_locates_nothing(db):
    assert locate(116.0, 40.0) is None
    assert locate_many([(116.0, 40.0)]) == [None]


def test_grids_of_another_street_are_found_too(west_and_east, district):
    other = CommunityFactory(street__district=district, street__code="S02", code="S02C01")
    GridFactory(community=other, code="S02C01G01", boundary=square(116.0, 40.01, 0.01))

    assert locate(116.005, 40.015).community.street.code == "S02"


def test_an_index_built_from_a_rolled_back_change_is_never_reused(community):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        GridFactory(community=community, code="S01C01G01", boundary=square(116.0, 40.0, 0.01))
        assert locate(116.005, 40.005).code == "S01C01G01"
        raise RuntimeError("roll back")

    GridFactory(community=community, code="S01C01G02", boundary=square(116.0, 40.0, 0.01))

    assert locate(116.005, 40.005).code == "S01C01G02"

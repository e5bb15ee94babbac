import pytest
from django.core.exceptions import ValidationError

from grids.geometry import BoundaryError, parse_boundary
from tests.factories import GridFactory, square

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[116.0, 40.0], [116.01, 40.01], [116.01, 40.0], [116.0, 40.01], [116.0, 40.0]]],
}


@pytest.mark.parametrize(
    "boundary, reason",
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "must be a GeoJSON geometry object"),
        ({"type": "Point", "coordinates": [116.0, 40.0]}, "geometry type Point is not allowed"),
        (
            {"type": "LineString", "coordinates": [[116.0, 40.0], [116.1, 40.1]]},
            "geometry type LineString is not allowed",
        ),
        ({"type": "Polygon"}, "has no coordinates"),
        ({"type": "Polygon", "coordinates": []}, "has no coordinates"),
        ({"type": "Polygon", "coordinates": [[116.0, 40.0]]}, "a position must be [longitude, latitude]"),
        (
            {"type": "Polygon", "coordinates": [[["116", 40.0], [116.1, 40.0], [116.1, 40.1], ["116", 40.0]]]},
            "must be [longitude, latitude] numbers",
        ),
        (square(179.995, 40.0), "longitude 180.005 is outside"),
        (square(116.0, 89.999), "latitude 90.009 is outside"),
        ({"type": "Polygon", "coordinates": [[]]}, "not nested as the geometry type requires"),
        ({"type": "Polygon", "coordinates": [[[116.0, 40.0], [116.1, 40.0], [116.0, 40.0]]]}, "Too few points"),
        (
            {"type": "Polygon", "coordinates": [[[116.0, 40.0], [116.1, 40.0], [116.2, 40.0], [116.0, 40.0]]]},
            "Self-intersection",
        ),
        (BOW_TIE, "not a valid polygon: Self-intersection"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.0, 40.0], [116.01, 40.01], [116.02, 40.02000001], [116.0, 40.0]]],
            },
            "encloses less than 1 m²",
        ),
    ],
)
def test_bad_boundaries_are_rejected_with_their_reason(boundary, reason):
    with pytest.raises(BoundaryError) as caught:
        parse_boundary(boundary)

    assert reason in str(caught.value)


def test_polygons_multipolygons_and_json_text_are_accepted():
    assert parse_boundary(square(116.0, 40.0)).geom_type == "Polygon"
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(116.0, 40.0)["coordinates"], square(116.1, 40.0)["coordinates"]],
    }
    assert parse_boundary(multi).geom_type == "MultiPolygon"
    assert parse_boundary('{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}').area == 0.5


def test_grid_validation_names_the_grid_and_the_reason(community):
    grid = GridFactory.build(community=community, code="S01C01G09", boundary=BOW_TIE)

    with pytest.raises(ValidationError) as caught:
        grid.full_clean()

    assert caught.value.message_dict["boundary"] == [
        "Grid S01C01G09: the boundary is not a valid polygon: Self-intersection[116.005 40.005]"
    ]


def test_a_grid_overlapping_another_of_the_district_is_rejected_with_both_codes(community):
    GridFactory(community=community, code="S01C01G01", boundary=square(116.0, 40.0, 0.01))
    grid = GridFactory.build(community=community, code="S01C01G02", boundary=square(116.005, 40.0, 0.01))

    with pytest.raises(ValidationError) as caught:
        grid.full_clean()

    message = caught.value.message_dict["boundary"][0]
    assert "S01C01G02" in message and "S01C01G01" in message


def test_neighbours_sharing_an_edge_or_a_sliver_within_tolerance_are_accepted(community, settings):
    GridFactory(community=community, code="S01C01G01", boundary=square(116.0, 40.0, 0.01))
    GridFactory.build(community=community, code="S01C01G02", boundary=square(116.01, 40.0, 0.01)).full_clean()
    # 0.00001° of longitude is under a metre here: a 1 m × 1.1 km sliver.
    sliver = GridFactory.build(community=community, code="S01C01G03", boundary=square(116.00999, 40.0, 0.01))
    settings.GRID_OVERLAP_TOLERANCE_M2 = 2000
    sliver.full_clean()
    settings.GRID_OVERLAP_TOLERANCE_M2 = 10
    with pytest.raises(ValidationError):
        sliver.full_clean()


def test_editing_a_grid_does_not_count_as_overlapping_itself(community):
    grid = GridFactory(community=community, code="S01C01G01", boundary=square(116.0, 40.0, 0.01))
    grid.boundary = square(116.001, 40.0, 0.01)

    grid.full_clean()

"""Catalogue and geography endpoints: categories, departments, streets, grids (GeoJSON) and locate."""

import pytest
from rest_framework.test import APIClient

from departments.models import CategoryAttribute
from tests.factories import CommunityFactory, DepartmentFactory, DistrictFactory, GridFactory, StreetFactory, square
from tests.whistle.test_api import assert_error, token_client


@pytest.fixture
def elsewhere(cast):
    """A second district with a street, a grid and a department: never in the first district's answers."""
    district = DistrictFactory(code="110228", name="密云区")
    street = StreetFactory(district=district, code="M01", name="鼓楼街道")
    grid = GridFactory(
        community=CommunityFactory(street=street, code="M01C01"), code="M01C01G01", boundary=square(116.84, 40.37, 0.01)
    )
    department = DepartmentFactory(district=district, code="M-D01", name="密云区城管委")
    return street, grid, department


def codes(response, key="results"):
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()[key]]


def test_categories_list_the_catalogue_with_their_attributes_in_order(cast):
    CategoryAttribute.objects.create(
        category=cast.order, code="plate", description="车牌号", datatype="string", required=True, order=2
    )
    CategoryAttribute.objects.create(
        category=cast.order,
        code="vehicle",
        description="车辆类型",
        datatype="singlevaluelist",
        order=1,
        values=[{"key": "car", "name": "小型汽车"}],
    )
    client = token_client(cast.d13_staff)

    assert codes(client.get("/api/v1/categories/")) == ["ENV-COMPOUND", "MISC-OTHER", "ORDER-PUBLIC"]
    body = client.get("/api/v1/categories/ORDER-PUBLIC/").json()
    assert body["default_grade"] == "priority"
    assert [(a["code"], a["required"], a["values"]) for a in body["attributes"]] == [
        ("vehicle", False, [{"key": "car", "name": "小型汽车"}]),
        ("plate", True, []),
    ]
    assert_error(client.get("/api/v1/categories/NO-SUCH/"), 404, "not_found")


def test_departments_and_streets_are_those_of_the_users_district(cast, elsewhere):
    client = token_client(cast.s01_staff)

    assert codes(client.get("/api/v1/departments/")) == ["D12", "D13", "E06", "T01", "T04"]
    assert codes(client.get("/api/v1/departments/?street=S01")) == ["T01"]
    assert codes(client.get("/api/v1/departments/?kind=public_service_enterprise")) == ["E06"]
    assert client.get("/api/v1/departments/T01/").json()["streets"] == ["S01"]
    assert_error(client.get("/api/v1/departments/M-D01/"), 404, "not_found")
    assert codes(client.get("/api/v1/streets/")) == ["S01", "S02"]
    assert_error(client.get("/api/v1/streets/M01/"), 404, "not_found")
    assert_error(client.get("/api/v1/departments/?kind=ministry"), 400, "invalid", field="kind")


def test_every_unit_sees_its_district_and_a_user_without_a_unit_nothing(cast, elsewhere):
    for user in (cast.d13_staff, cast.supervisor, cast.hotline):
        assert codes(token_client(user).get("/api/v1/streets/")) == ["S01", "S02"]
    assert codes(token_client(cast.outsider).get("/api/v1/streets/")) == []


def test_grids_are_a_geojson_feature_collection(cast, elsewhere):
    client = token_client(cast.supervisor)

    response = client.get("/api/v1/grids/?street=S01")

    assert response["Content-Type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["count"] == 2
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"] == {
        "code": "S01C01G01",
        "name": cast.grids.g1.name,
        "community": "S01C01",
        "community_name": "百泉第1社区",
        "street": "S01",
    }
    assert [f["properties"]["code"] for f in client.get("/api/v1/grids/").json()["features"]] == [
        "S01C01G01",
        "S01C01G02",
        "S02C01G01",
    ]
    assert client.get("/api/v1/grids/S02C01G01/").json()["properties"]["street"] == "S02"
    assert_error(client.get("/api/v1/grids/M01C01G01/"), 404, "not_found")


def test_locate_names_the_grid_community_and_street_of_a_point(cast, elsewhere):
    client = token_client(cast.hotline)

    body = client.get("/api/v1/locate/?lon=115.975&lat=40.465").json()

    assert body == {
        "grid": "S01C01G01",
        "grid_name": cast.grids.g1.name,
        "community": "S01C01",
        "community_name": "百泉第1社区",
        "street": "S01",
        "street_name": "百泉街道",
    }
    assert_error(client.get("/api/v1/locate/?lon=100&lat=30"), 404, "not_found", text="No grid")
    # A point in the other district is no grid of this user's.
    assert_error(client.get("/api/v1/locate/?lon=116.845&lat=40.375"), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ("lat=40.4", "lon", "required"),
        ("lon=abc&lat=40.4", "lon", "number"),
        ("lon=115.9&lat=91", "lat", "between -90 and 90"),
        ("lon=nan&lat=40", "lon", "between"),
        ("lon=inf&lat=40", "lon", "between"),
    ],
)
def test_locate_refuses_a_point_that_is_not_one(cast, query, field, text):
    assert_error(token_client(cast.hotline).get(f"/api/v1/locate/?{query}"), 400, "invalid", field=field, text=text)


def test_the_catalogue_needs_a_signed_in_user(db):
    for path in (
        "/api/v1/categories/",
        "/api/v1/departments/",
        "/api/v1/streets/",
        "/api/v1/grids/",
        "/api/v1/locate/",
    ):
        assert_error(APIClient().get(path), 401, "not_authenticated")

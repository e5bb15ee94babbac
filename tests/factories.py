"""factory-boy factories for the geography and organisation model."""

import factory
from django.contrib.auth import get_user_model

from departments.models import Category, Department, Membership
from grids.models import Community, District, Grid, Street


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON square with its south-west corner at (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.gov.cn")
    password = factory.django.Password("demo-pass-2026")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["code"]

    code = "YQ"
    name = "延庆区"


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street
        django_get_or_create = ["code"]

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"S{n + 1:02d}")
    name = factory.Sequence(lambda n: f"街道{n + 1}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community
        django_get_or_create = ["code"]

    street = factory.SubFactory(StreetFactory)
    code = factory.Sequence(lambda n: f"C{n + 1:03d}")
    name = factory.Sequence(lambda n: f"社区{n + 1}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"G{n + 1:04d}")
    name = factory.Sequence(lambda n: f"网格{n + 1}")
    boundary = factory.LazyFunction(lambda: square(116.0, 40.0))


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["code"]

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"D{n + 1:02d}")
    name = factory.Sequence(lambda n: f"部门{n + 1}")
    kind = Department.Kind.DISTRICT_DEPARTMENT


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"CAT-{n + 1}")
    name = factory.Sequence(lambda n: f"事项{n + 1}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.STREET_STAFF
    street = factory.SubFactory(StreetFactory)


WHISTLE_FIELDS = {
    "title": "楼道堆物",
    "description": "3号楼楼道堆满杂物，堵塞消防通道。",
    "category": "ENV-COMPOUND",
    "lon": 115.975,
    "lat": 40.465,
}


def submit_whistle(user, **fields):
    """Raise a whistle through the service: old-compound environment in the cast's grid S01C01G01 unless told otherwise."""
    from whistle.services import whistle_submit

    return whistle_submit(reporter=user, **{**WHISTLE_FIELDS, **fields})

"""Read queries of the catalogue: categories, their attributes and the district's departments."""

from django.db.models import Prefetch, QuerySet

from departments.models import Category, CategoryAttribute, Department
from grids.models import Street
from grids.selectors import in_users_district


def category_list() -> QuerySet[Category]:
    """Every category with its parent and its attributes in their order (the catalogue is the city's)."""
    return Category.objects.select_related("parent").prefetch_related(
        Prefetch("attributes", queryset=CategoryAttribute.objects.order_by("order", "code"))
    )


def department_list(*, user) -> QuerySet[Department]:
    """The departments, stations and enterprises of the user's district, with the streets they serve."""
    departments = Department.objects.select_related("parent").prefetch_related(
        Prefetch("streets", queryset=Street.objects.only("code").order_by("code"))
    )
    return in_users_district(departments, "district_id", user)

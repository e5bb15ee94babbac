"""The routing catalogue cached per process follows every change to the rules at once."""

from departments.catalogue import current_catalogue
from departments.models import Responsibility


def codes(assignments):
    return [(a.department.code, a.role) for a in assignments]


def test_the_catalogue_matches_street_rules_before_district_ones(cast):
    catalogue = current_catalogue()

    assert codes(catalogue.match(category_id=cast.order.pk, street_id=cast.s01.pk)) == [("T01", "lead")]
    assert codes(catalogue.match(category_id=cast.order.pk, street_id=cast.s02.pk)) == [("T04", "lead")]
    assert catalogue.match(category_id=cast.unruled.pk, street_id=cast.s01.pk) == []


def test_a_new_rule_a_changed_scope_and_a_renamed_department_reach_the_cache(cast):
    before = current_catalogue()
    assert current_catalogue() is before  # unchanged stamp: the same object, no rebuild

    rule = Responsibility.objects.create(category=cast.unruled, department=cast.d13, role="lead")
    assert codes(current_catalogue().match(category_id=cast.unruled.pk, street_id=cast.s01.pk)) == [("D13", "lead")]

    rule.streets.add(cast.s02)
    assert current_catalogue().match(category_id=cast.unruled.pk, street_id=cast.s01.pk) == []

    cast.d13.name = "区城市管理委员会（新）"
    cast.d13.save()
    rule.streets.clear()
    [assignment] = current_catalogue().match(category_id=cast.unruled.pk, street_id=cast.s01.pk)
    assert assignment.explanation()["department_name"] == "区城市管理委员会（新）"

    rule.delete()
    assert current_catalogue().match(category_id=cast.unruled.pk, street_id=cast.s01.pk) == []


def test_a_district_wide_rule_applies_in_its_own_districts_streets_only(cast):
    from tests.factories import DistrictFactory, StreetFactory

    other = StreetFactory(district=DistrictFactory(code="110228", name="密云区"), code="M01", name="鼓楼街道")

    # ENV-COMPOUND is led district-wide by D13 of the cast's district: not in Miyun's street.
    assert codes(current_catalogue().match(category_id=cast.compound.pk, street_id=cast.s01.pk))[0] == ("D13", "lead")
    assert current_catalogue().match(category_id=cast.compound.pk, street_id=other.pk) == []

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from departments.admin import ResponsibilityForm
from departments.models import Department, Membership, Responsibility
from departments.services import responsibility_create
from tests.factories import CategoryFactory, DepartmentFactory, StreetFactory, UserFactory

LEAD, CO = Responsibility.Role.LEAD, Responsibility.Role.CO_OPERATING


@pytest.fixture
def category(db):
    return CategoryFactory(code="ORDER-PUBLIC", name="治安秩序")


@pytest.fixture
def police(district):
    return DepartmentFactory(
        code="T01",
        name="百泉派出所",
        kind=Department.Kind.GRASSROOTS_STATION,
        station_kind=Department.StationKind.POLICE_STATION,
        district=district,
    )


def test_a_second_district_wide_lead_is_rejected(category, district):
    responsibility_create(category=category, department=DepartmentFactory(code="D21"), role=LEAD)

    with pytest.raises(ValidationError, match="already has a district-wide lead"):
        responsibility_create(category=category, department=DepartmentFactory(code="D34"), role=LEAD)
    assert Responsibility.objects.count() == 1


def test_a_second_lead_for_the_same_category_and_street_is_rejected(category, street, police):
    other_street = StreetFactory(code="S02", district=street.district)
    responsibility_create(category=category, department=police, role=LEAD, streets=[street])

    with pytest.raises(ValidationError, match="already has a lead in 百泉街道"):
        responsibility_create(
            category=category, department=DepartmentFactory(code="T04"), role=LEAD, streets=[other_street, street]
        )
    assert Responsibility.objects.count() == 1


def test_leads_of_different_streets_and_a_district_wide_default_coexist(category, street, police):
    other_street = StreetFactory(code="S02", district=street.district)
    responsibility_create(category=category, department=police, role=LEAD, streets=[street])
    responsibility_create(
        category=category, department=DepartmentFactory(code="T04"), role=LEAD, streets=[other_street]
    )
    responsibility_create(category=category, department=DepartmentFactory(code="D21"), role=LEAD)

    assert Responsibility.objects.filter(role=LEAD).count() == 3


def test_co_operating_departments_are_not_limited(category, street, police):
    responsibility_create(category=category, department=police, role=LEAD)
    responsibility_create(category=category, department=DepartmentFactory(code="D34"), role=CO)
    responsibility_create(category=category, department=DepartmentFactory(code="D12"), role=CO, streets=[street])

    assert Responsibility.objects.filter(role=CO).count() == 2


def test_the_admin_form_applies_the_same_rule_and_allows_editing_the_lead_itself(category, street, police):
    rule = responsibility_create(category=category, department=police, role=LEAD, streets=[street])
    other = DepartmentFactory(code="T04")

    form = ResponsibilityForm(
        data={"category": category.pk, "department": other.pk, "role": LEAD, "streets": [street.pk]}
    )
    assert not form.is_valid()
    assert "already has a lead in 百泉街道" in str(form.non_field_errors())

    edit = ResponsibilityForm(
        instance=rule,
        data={
            "category": category.pk,
            "department": police.pk,
            "role": LEAD,
            "streets": [street.pk],
            "note": "本街道派出所",
        },
    )
    assert edit.is_valid(), edit.errors


def test_a_membership_must_name_the_unit_its_role_belongs_to(street, police):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=UserFactory(), role=Membership.Role.DEPT_STAFF, street=street)


def test_a_membership_with_two_units_is_rejected(street, police):
    with pytest.raises(IntegrityError):
        Membership.objects.create(
            user=UserFactory(), role=Membership.Role.STREET_STAFF, street=street, department=police
        )


def test_a_membership_validates_with_a_clear_message(street):
    membership = Membership(user=UserFactory(), role=Membership.Role.SUPERVISOR, street=street)

    with pytest.raises(ValidationError, match="A street role needs a street"):
        membership.full_clean()

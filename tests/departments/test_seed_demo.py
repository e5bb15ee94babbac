"""manage.py seed_demo builds the demo district of DESIGN.md, once, and refuses without DEBUG."""

from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory, override_settings

from departments.demo import DEMO_PASSWORD, demo_district_data
from departments.models import Category, Department, Membership, Responsibility
from grids.geometry import find_overlaps, parse_boundary
from grids.locate import grid_version, locate
from grids.models import Community, Grid, GridWorker, Street

User = get_user_model()

STREET_USERS = {
    "staff": Membership.Role.STREET_STAFF,
    "deputy": Membership.Role.STREET_DEPUTY,
    "head": Membership.Role.STREET_HEAD,
    "party": Membership.Role.PARTY_OFFICE,
    "grid": Membership.Role.GRID_WORKER,
    "dispatcher": Membership.Role.DISPATCHER,
}


@pytest.fixture(scope="module")
def seed_output(django_db_setup, django_db_blocker):
    """Seed once for the whole module, inside a transaction rolled back at its end.

    Each test's own transaction is a savepoint inside this one, so the tests
    see the district and can even change it without affecting each other.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        with override_settings(DEBUG=True):
            call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def model_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.django_db
def test_streets_units_and_categories_come_from_the_data_file(seed_output):
    data = demo_district_data()
    assert Street.objects.count() == 18
    assert set(Street.objects.values_list("code", "name", "kind")) == {
        (s["code"], s["name"], s["kind"]) for s in data["streets"]
    }
    assert Department.objects.count() == 151
    assert Counter(Department.objects.values_list("kind", flat=True)) == {
        Department.Kind.DISTRICT_DEPARTMENT: 74,
        Department.Kind.GRASSROOTS_STATION: 57,
        Department.Kind.PUBLIC_SERVICE_ENTERPRISE: 20,
    }
    police = Department.objects.get(code="T01")
    assert police.station_kind == Department.StationKind.POLICE_STATION
    assert [s.code for s in police.streets.all()] == ["S01"]
    assert Department.objects.get(code="T55").streets.count() == 7
    assert Category.objects.count() == 40
    assert Category.objects.get(code="BLD-ILLEGAL").default_grade == "difficult"


@pytest.mark.django_db
def test_every_category_has_exactly_one_effective_lead_in_every_street(seed_output):
    leads = Counter()  # (category, street code or "" for district-wide) -> number of leads
    for rule in Responsibility.objects.filter(role=Responsibility.Role.LEAD).prefetch_related("streets"):
        for code in [s.code for s in rule.streets.all()] or [""]:
            leads[rule.category_id, code] += 1
    assert max(leads.values()) == 1
    for category in Category.objects.all():
        for street in Street.objects.all():
            assert leads[category.pk, street.code] + leads[category.pk, ""] >= 1, (category.code, street.code)


@pytest.mark.django_db
def test_per_street_rules_go_to_each_streets_own_station(seed_output):
    rules = Responsibility.objects.filter(category__code="HOUSE-RENTAL", role=Responsibility.Role.LEAD)
    assert rules.count() == 18
    for rule in rules.select_related("department").prefetch_related("streets"):
        assert rule.department.station_kind == Department.StationKind.POLICE_STATION
        assert list(rule.streets.all()) == list(rule.department.streets.all())
    co_operating = Responsibility.objects.filter(category__code="ENV-COMPOUND", role=Responsibility.Role.CO_OPERATING)
    assert sorted(co_operating.values_list("department__code", flat=True)) == ["D12", "E06"]
    assert not co_operating.filter(streets__isnull=False).exists()


@pytest.mark.django_db
def test_every_street_has_3_to_8_communities_each_with_grids(seed_output):
    per_street = Counter(Community.objects.values_list("street__code", flat=True))
    assert set(per_street) == {f"S{n:02d}" for n in range(1, 19)}
    assert all(3 <= count <= 8 for count in per_street.values()), per_street
    assert not Community.objects.filter(grids__isnull=True).exists()
    community = Community.objects.get(code="S01C01")
    assert community.name == "百泉第1社区"
    assert community.kind == Community.Kind.RESIDENTS
    assert community.grids.order_by("code").first().name == "百泉第1社区第1网格"
    assert set(Community.objects.filter(street__code="S05").values_list("kind", flat=True)) == {"villagers"}


@pytest.mark.django_db
def test_grids_are_valid_and_do_not_overlap(seed_output):
    grids = list(Grid.objects.select_related("community__street"))
    assert all(grid.code.startswith(grid.community.code) for grid in grids)
    items = [(grid.code, "YQ", parse_boundary(grid.boundary)) for grid in grids]
    assert find_overlaps(items) == []


@pytest.mark.django_db
def test_each_street_centre_lies_in_one_of_its_own_grids(seed_output):
    for street in demo_district_data()["streets"]:
        grid = locate(*street["approx_centre"])
        assert grid is not None, street["code"]
        assert grid.community.street.code == street["code"]


@pytest.mark.django_db
def test_demo_users_have_their_memberships(seed_output):
    memberships = Membership.objects.select_related("user", "street", "department", "district")
    by_username = {m.user.username: m for m in memberships}
    for street in range(1, 19):
        for suffix, role in STREET_USERS.items():
            membership = by_username[f"s{street:02d}_{suffix}"]
            assert (membership.role, membership.street.code) == (role, f"S{street:02d}")
    for code in Department.objects.values_list("code", flat=True):
        assert by_username[f"{code.lower()}_staff"].role == Membership.Role.DEPT_STAFF
        assert by_username[f"{code.lower()}_head"].department.code == code
    assert by_username["supervisor"].role == Membership.Role.SUPERVISOR
    assert by_username["supervisor"].district is not None
    assert by_username["hotline"].role == Membership.Role.HOTLINE_CLIENT
    assert len(by_username) == 18 * 6 + 151 * 2 + 2
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["admin"]
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]
    assert User.objects.get(username="s01_head").first_name == "百泉街道主任"


@pytest.mark.django_db
def test_demo_password_works(seed_output):
    # As the sign-in form does: django-axes counts failures per request, so it needs one.
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="s01_dispatcher", password=DEMO_PASSWORD) is not None
    assert authenticate(request, username="admin", password=DEMO_PASSWORD).is_superuser


@pytest.mark.django_db
def test_each_street_grid_worker_covers_one_community_of_that_street(seed_output):
    workers = GridWorker.objects.select_related("user").prefetch_related("grids__community")
    assert len(workers) == 18
    for worker in workers:
        communities = {grid.community for grid in worker.grids.all()}
        assert len(communities) == 1
        community = communities.pop()
        assert worker.user.username == f"{community.street.code.lower()}_grid"
        assert set(worker.grids.all()) == set(community.grids.all())


@pytest.mark.django_db
def test_output_names_the_logins_and_the_password(seed_output):
    assert DEMO_PASSWORD in seed_output
    assert "s01_dispatcher" in seed_output
    assert "413 个用户" in seed_output  # management commands speak the default language


@pytest.mark.django_db
def test_running_it_again_changes_nothing(seed_output):
    before, version = model_counts(), grid_version()
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=out)
    assert model_counts() == before
    assert grid_version() == version
    assert "nothing was changed" in out.getvalue()


@pytest.mark.django_db
def test_restores_a_changed_grid_and_adds_missing_rules(seed_output):
    grid = Grid.objects.get(code="S01C01G01")
    boundary = grid.boundary
    Grid.objects.filter(pk=grid.pk).update(
        boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    )
    Responsibility.objects.filter(category__code="ORDER-PUBLIC", streets__code="S07").delete()
    version = grid_version()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=StringIO())
    grid.refresh_from_db()
    assert grid.boundary == boundary
    assert grid_version() != version
    assert Responsibility.objects.filter(category__code="ORDER-PUBLIC", streets__code="S07").count() == 1


@pytest.mark.django_db
def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    before = model_counts()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert model_counts() == before

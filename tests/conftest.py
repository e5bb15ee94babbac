import pytest

from tests.factories import CommunityFactory, DistrictFactory, StreetFactory

pytest_plugins = ["tests.live_worker"]


@pytest.fixture
def district(db):
    return DistrictFactory()


@pytest.fixture
def street(district):
    return StreetFactory(district=district, code="S01", name="百泉街道")


@pytest.fixture
def community(street):
    return CommunityFactory(street=street, code="S01C01", name="百泉社区")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing takes most of a second per user; tests are not about its strength."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # hashes made outside a test (seed_demo)
    ]


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    """Each test starts with full API rate budgets: user and token ids repeat from test to test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def english_messages():
    """Assert on the English text; tests of the Chinese text switch language themselves."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """A browser asking for English pages, to match the English assertions; Chinese tests ask for zh-hans."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


# The fixed cast of the whistle tests -------------------------------------------------
#
# Two streets of one district. 百泉街道 (S01) has two neighbouring grids, 香水园街道
# (S02) one. Public order is led in each street by that street's police station
# (street-scoped rules); old-compound environment is led district-wide by the
# city-management commission with two co-operating units; a third category has
# no rule at all (it goes to the dispatcher's queue). Users are named as in the
# demo district: s01_staff, s01_deputy, s01_head, s01_party, s01_grid,
# s01_dispatcher, s02_staff, s02_dispatcher, d13_staff (lead department),
# d12_staff (co-operating), t01_staff (S01's police), supervisor, hotline, and
# outsider (a user without any unit).


@pytest.fixture
def cast(db):
    from types import SimpleNamespace

    from departments.models import Department, Membership, Responsibility
    from departments.services import responsibility_create
    from tests.factories import CategoryFactory, DepartmentFactory, GridFactory, MembershipFactory, UserFactory, square

    district = DistrictFactory()
    s01 = StreetFactory(district=district, code="S01", name="百泉街道")
    s02 = StreetFactory(district=district, code="S02", name="香水园街道")
    c01 = CommunityFactory(street=s01, code="S01C01", name="百泉第1社区")
    c02 = CommunityFactory(street=s02, code="S02C01", name="香水园第1社区")
    grids = SimpleNamespace(
        g1=GridFactory(community=c01, code="S01C01G01", boundary=square(115.97, 40.46, 0.01)),
        g2=GridFactory(community=c01, code="S01C01G02", boundary=square(115.98, 40.46, 0.01)),
        g3=GridFactory(community=c02, code="S02C01G01", boundary=square(115.95, 40.44, 0.01)),
    )
    station = Department.Kind.GRASSROOTS_STATION
    police = Department.StationKind.POLICE_STATION
    d13 = DepartmentFactory(district=district, code="D13", name="区城市管理委员会")
    d12 = DepartmentFactory(district=district, code="D12", name="区住房和城乡建设委员会")
    e06 = DepartmentFactory(
        district=district, code="E06", name="区环卫集团", kind=Department.Kind.PUBLIC_SERVICE_ENTERPRISE
    )
    t01 = DepartmentFactory(district=district, code="T01", name="百泉派出所", kind=station, station_kind=police)
    t04 = DepartmentFactory(district=district, code="T04", name="香水园派出所", kind=station, station_kind=police)
    t01.streets.set([s01])
    t04.streets.set([s02])
    order = CategoryFactory(code="ORDER-PUBLIC", name="治安秩序", default_grade="priority")
    compound = CategoryFactory(code="ENV-COMPOUND", name="老旧小区环境", default_grade="ordinary")
    unruled = CategoryFactory(code="MISC-OTHER", name="其他事项", default_grade="ordinary")
    lead, co = Responsibility.Role.LEAD, Responsibility.Role.CO_OPERATING
    responsibility_create(category=order, department=t01, role=lead, streets=[s01])
    responsibility_create(category=order, department=t04, role=lead, streets=[s02])
    responsibility_create(category=compound, department=d13, role=lead)
    responsibility_create(category=compound, department=d12, role=co)
    responsibility_create(category=compound, department=e06, role=co)

    R = Membership.Role
    users = {}
    for street, prefix in ((s01, "s01"), (s02, "s02")):
        for suffix, role in (
            ("staff", R.STREET_STAFF),
            ("deputy", R.STREET_DEPUTY),
            ("head", R.STREET_HEAD),
            ("party", R.PARTY_OFFICE),
            ("grid", R.GRID_WORKER),
            ("dispatcher", R.DISPATCHER),
        ):
            users[f"{prefix}_{suffix}"] = MembershipFactory(
                user=UserFactory(username=f"{prefix}_{suffix}"), role=role, street=street
            ).user
    for unit in (d13, d12, e06, t01, t04):
        users[f"{unit.code.lower()}_staff"] = MembershipFactory(
            user=UserFactory(username=f"{unit.code.lower()}_staff"), role=R.DEPT_STAFF, street=None, department=unit
        ).user
    for name, role in (("supervisor", R.SUPERVISOR), ("hotline", R.HOTLINE_CLIENT)):
        users[name] = MembershipFactory(user=UserFactory(username=name), role=role, street=None, district=district).user
    users["outsider"] = UserFactory(username="outsider")
    return SimpleNamespace(
        district=district,
        s01=s01,
        s02=s02,
        grids=grids,
        d13=d13,
        d12=d12,
        e06=e06,
        t01=t01,
        t04=t04,
        order=order,
        compound=compound,
        unruled=unruled,
        **users,
    )


def pytest_collection_modifyitems(items):
    """Every test that commits must restore the migrations' data (calendar, deadline policies).

    A committing test without serialized_rollback flushes the database and
    re-emits post_migrate, which then clashes with the next one that restores.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: use django_db(transaction=True, serialized_rollback=True)")


@pytest.fixture(autouse=True)
def sessions_outlast_time_travel(settings):
    """Tests sign in, then travel days ahead (time_machine): an 8-hour session would sign them out.

    tests/config/test_security.py puts the real expiry back to test it.
    """
    settings.SESSION_COOKIE_AGE = 365 * 24 * 60 * 60

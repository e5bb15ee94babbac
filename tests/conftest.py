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

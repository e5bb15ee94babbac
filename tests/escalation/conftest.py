import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    """An aware Asia/Shanghai datetime from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar_snapshot():
    """Start every test without the process's snapshot.

    A test elsewhere that changes the calendar with QuerySet.update() (no
    signal, so no new stamp) and rolls back would otherwise leave a snapshot
    of rows that no longer exist under the unchanged stamp.
    """
    from escalation import policy

    policy._snapshots.clear()
    yield


@pytest.fixture(autouse=True)
def tally_counted_at_every_read(settings):
    """The dashboard counts the open tasks again on every request: tests change them between requests.

    The tally's own rules (renewed by the sweep, kept while young enough) are tested on their own.
    """
    settings.DASHBOARD_TALLY_MAX_AGE_S = 0


@pytest.fixture
def calendar(db):
    """The database's calendar as the migrations seeded it (2020–2026 from chinese-calendar)."""
    from escalation.policy import current_calendar

    return current_calendar()


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client

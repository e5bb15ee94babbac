from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def monday_morning():
    """Monday 2 March 2026, 10:00 in Beijing: a working day, so deadlines are the SLA's working hours."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def tally_counted_at_every_read(settings):
    """The supervisor's charts count the open tasks again on every request: tests change them between requests."""
    settings.DASHBOARD_TALLY_MAX_AGE_S = 0


@pytest.fixture
def superuser(db):
    from tests.factories import UserFactory

    return UserFactory(username="admin", is_staff=True, is_superuser=True)

"""The demo activity in another district and catalogue than the demo's: the cast of tests/conftest.py."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from escalation.demo import demo_activity_seed
from whistle.models import Whistle

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.django_db
def test_a_whistle_of_a_category_without_rules_waits_for_the_dispatcher(cast, settings):
    """The cast's category without rules: the routing run sends its whistles to the dispatcher's queue."""
    settings.DEBUG = True
    result = demo_activity_seed(district=cast.district, count=24, now=NOW)
    unruled = Whistle.objects.filter(category=cast.unruled)
    assert result.whistles == 24 and unruled.exists()
    for whistle in unruled:
        event = whistle.events.get(system_actor="router")
        assert (event.verb, event.new) == ("awaiting_dispatch", {"status": "awaiting_dispatch"})
    assert unruled.filter(status=Whistle.Status.AWAITING_DISPATCH).exists()
    assert unruled.filter(status=Whistle.Status.ROUTED, events__verb="dispatched").exists()
    assert Whistle.objects.filter(category=cast.compound, status=Whistle.Status.CLOSED).exists()

"""A known set of warning and overdue tasks for the supervisor views (pages and API).

Routed on Monday 2 March 2026 at 10:00 (Asia/Shanghai):

- ``ordinary``: an ordinary S01 whistle to D13 (lead, acknowledged at once), D12 and E06;
  acknowledge by 12:00, warning at 11:36.
- ``priority``: a priority S01 whistle to D13, D12 and E06; acknowledge by 10:30, warning at 10:22:30.
- ``s02``: a priority S02 public-order whistle to T04.

At AT_1140 the lights are therefore: priority D13, D12, E06 and S02's T04 red;
ordinary D12 and E06 yellow; ordinary D13 (acknowledged) green.
"""

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import time_machine

from tests.factories import submit_whistle
from whistle.models import Task
from whistle.services import task_acknowledge, whistle_route

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
AT_1025 = datetime(2026, 3, 2, 10, 25, tzinfo=SHANGHAI)
AT_1140 = datetime(2026, 3, 2, 11, 40, tzinfo=SHANGHAI)


def routed(user, **fields):
    whistle = submit_whistle(user, **fields).whistle
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def task_of(whistle, code) -> Task:
    return Task.objects.select_related("whistle__street", "department").get(whistle=whistle, department__code=code)


def late_set(cast) -> SimpleNamespace:
    with time_machine.travel(MONDAY_10, tick=False):
        ordinary = routed(cast.s01_staff, title="楼道堆物")
        priority = routed(cast.s01_staff, title="消防通道堵塞", grade="priority")
        s02 = routed(cast.s02_staff, title="夜间噪音", category="ORDER-PUBLIC", lon=115.955, lat=40.445)
        task_acknowledge(task=task_of(ordinary, "D13"), actor=cast.d13_staff)
    return SimpleNamespace(ordinary=ordinary, priority=priority, s02=s02)


def signed_in(client, user):
    client.force_login(user)
    return client

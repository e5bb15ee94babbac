"""Two sweeps at the same moment: every step of every task still fires exactly once.

Real threads with their own connections (see tests/whistle/test_concurrency.py):
on PostgreSQL the sweeps skip each other's locked rows, on SQLite they queue
for the single writer; either way nothing fires twice.
"""

from collections import Counter

import pytest
import time_machine

from escalation.models import AccountabilityRecord, SupervisionOrder
from escalation.services import deadlines_sweep
from tests.escalation.conftest import at
from tests.factories import submit_whistle
from tests.whistle.test_concurrency import overlapped, routing_not_enqueued, run_together
from whistle.models import Event, Task
from whistle.services import whistle_route

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_sweeps_at_once_fire_each_step_once(cast):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False), routing_not_enqueued():
        for _ in range(12):
            whistle_route(whistle_id=submit_whistle(cast.s01_staff).whistle.pk)
    tasks = Task.objects.count()
    assert tasks == 36

    with time_machine.travel(at("2026-03-20 10:00"), tick=False):
        outcomes = run_together(2, lambda i: deadlines_sweep(batch=5))

    assert [error for _, error, _, _ in outcomes] == [None, None]
    fired = sum((result.steps for result, _, _, _ in outcomes), start=Counter())
    # Per task: warning, overdue, supervision, accountability (the orders are answerable for two more days).
    assert fired == {
        "acknowledge_warning": tasks,
        "acknowledge_overdue": tasks,
        "supervision": tasks,
        "accountability": tasks,
    }
    assert Event.objects.filter(system_actor="sweeper", verb="warning").count() == tasks
    assert SupervisionOrder.objects.count() == tasks
    assert AccountabilityRecord.objects.filter(kind="overdue").count() == tasks
    assert overlapped(outcomes)

"""Two people acting on one task at the same moment end in one consistent result.

Threads with their own connections, released together (run_together, as in
test_concurrency): on PostgreSQL the task's and the whistle's row locks
decide, on SQLite the single writer. The tests commit for real.
"""

import pytest

from config.errors import Conflict
from tests.factories import submit_whistle
from tests.whistle.test_concurrency import overlapped, routing_not_enqueued, run_together
from whistle.models import Event, Feedback, Task, Whistle
from whistle.permissions import membership_of
from whistle.services import task_acknowledge, task_check_in, task_close, task_release, whistle_route

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROUNDS = 4


def routed_whistles(cast, count):
    with routing_not_enqueued():
        whistles = [submit_whistle(cast.s01_staff).whistle for _ in range(count)]
    for whistle in whistles:
        whistle_route(whistle_id=whistle.pk)
    for user in (cast.d13_staff, cast.d12_staff, cast.s01_dispatcher):
        membership_of(user)  # loaded once here, not in both threads
    return whistles


def task_of(whistle, code) -> Task:
    return Task.objects.get(whistle=whistle, department__code=code)


def errors(outcomes):
    return [error for _, error, _, _ in outcomes]


def test_two_acknowledgements_at_once_leave_one_acknowledgement(cast):
    races = []
    for whistle in routed_whistles(cast, ROUNDS):
        task = task_of(whistle, "D13")
        races.append(run_together(2, lambda i, task=task: task_acknowledge(task=task, actor=cast.d13_staff)))

    for outcomes in races:
        failures = errors(outcomes)
        assert failures.count(None) == 1, failures
        assert isinstance(next(e for e in failures if e is not None), Conflict)
    assert Task.objects.filter(department__code="D13", status="acknowledged").count() == ROUNDS
    assert Event.objects.filter(verb="acknowledged").count() == ROUNDS
    assert any(overlapped(outcomes) for outcomes in races)


def test_two_closes_of_one_task_at_once_store_one_feedback_form(cast):
    races = []
    for whistle in routed_whistles(cast, ROUNDS):
        task = task_of(whistle, "D12")
        task_check_in(task=task, actor=cast.d12_staff)
        races.append(
            run_together(
                2,
                lambda i, task=task: task_close(task=task, actor=cast.d12_staff, actions=f"清理 {i}", result="solved"),
            )
        )

    for outcomes in races:
        failures = errors(outcomes)
        assert failures.count(None) == 1, failures
        assert isinstance(next(e for e in failures if e is not None), Conflict)
    assert Feedback.objects.count() == ROUNDS
    assert Event.objects.filter(verb="closed").count() == ROUNDS


def test_the_lead_and_the_last_co_operating_department_closing_at_once_never_leave_the_lead_first(cast):
    races = []
    for whistle in routed_whistles(cast, ROUNDS):
        lead, d12 = task_of(whistle, "D13"), task_of(whistle, "D12")
        task_release(task=task_of(whistle, "E06"), actor=cast.s01_dispatcher)
        task_check_in(task=lead, actor=cast.d13_staff)
        task_check_in(task=d12, actor=cast.d12_staff)
        pair = ((lead, cast.d13_staff), (d12, cast.d12_staff))
        races.append(
            (
                whistle,
                run_together(
                    2,
                    lambda i, pair=pair: task_close(
                        task=pair[i][0], actor=pair[i][1], actions="已处理", result="solved"
                    ),
                ),
            )
        )

    for whistle, outcomes in races:
        lead_error, d12_error = errors(outcomes)
        assert d12_error is None
        whistle.refresh_from_db()
        lead = task_of(whistle, "D13")
        if lead_error is None:
            # The co-operating part closed first: the lead closed last and the whistle is resolved.
            assert lead.status == "closed" and whistle.status == Whistle.Status.RESOLVED
            assert Event.objects.filter(whistle=whistle, verb="resolved").count() == 1
        else:
            assert isinstance(lead_error, Conflict)
            assert lead.status == "checked_in" and whistle.status == Whistle.Status.ROUTED

"""Nothing twice: the same routing, or the same submission, at the same moment from two places.

The racers are threads, each with its own database connection (closed when
it finishes), released together by a barrier. The database decides: on
PostgreSQL the whistle's row lock and the unique constraints, on SQLite the
single writer (transactions BEGIN IMMEDIATE and wait up to 20 s for the
lock). The tests commit for real (`transaction=True`); the serialized
rollback gives each one back the deadline policies the migrations seeded.
"""

import threading
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import connection

from tests.factories import submit_whistle
from tests.live_worker import WORKER_RESULT_TIMEOUT, worker_log
from whistle.models import Event, Notification, Task, Whistle, WhistleNumberSequence
from whistle.permissions import membership_of
from whistle.services import whistle_route, whistles_route_waiting
from whistle.tasks import route_waiting_whistles

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROUNDS = 5


def run_together(count, call):
    """Run call(i) for i in range(count) in as many threads, all released at once.

    Returns, per thread, (result, exception, started, finished) with monotonic times.
    """
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def racer(i):
        result = error = None
        started = finished = 0.0
        try:
            barrier.wait(timeout=10)
            started = time.monotonic()
            result = call(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails on it
            error = exc
        finally:
            finished = time.monotonic()
            connection.close()
        outcomes[i] = (result, error, started, finished)

    threads = [threading.Thread(target=racer, args=(i,), name=f"racer-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a racer is still running after 30 s"
    return outcomes


def overlapped(outcomes) -> bool:
    """Whether all the calls were running at one moment (else the race was not run)."""
    return max(started for _, _, started, _ in outcomes) < min(finished for _, _, _, finished in outcomes)


@contextmanager
def routing_not_enqueued():
    """Submit without calling a routing run: these tests route themselves.

    Yields the list of the whistles stored (each calls for routing once).
    """
    calls = []

    def ring(name):
        calls.append(name)
        return False  # as if a run were called for already

    with mock.patch("whistle.services.intake.doorbell_ring", ring):
        yield calls


def test_routing_one_whistle_twice_at_the_same_moment_creates_one_set_of_tasks(cast):
    with routing_not_enqueued():
        whistles = [submit_whistle(cast.s01_staff).whistle for _ in range(ROUNDS)]
    races = []

    for whistle in whistles:
        races.append(run_together(2, lambda i, whistle_id=whistle.pk: whistle_route(whistle_id=whistle_id)))

    for whistle, outcomes in zip(whistles, races, strict=True):
        assert [error for _, error, _, _ in outcomes] == [None, None], whistle.number
        assert {result.status for result, _, _, _ in outcomes} == {Whistle.Status.ROUTED}
        codes = sorted(Task.objects.filter(whistle=whistle).values_list("department__code", flat=True))
        assert codes == ["D12", "D13", "E06"], whistle.number
        assert Event.objects.filter(whistle=whistle, verb="routed").count() == 1
        assert Notification.objects.filter(whistle=whistle).count() == 3
    # At least one pair really ran side by side (on SQLite the second one waits for the write lock).
    assert any(overlapped(outcomes) for outcomes in races)


def test_routing_runs_at_the_same_moment_route_every_whistle_exactly_once(cast):
    with routing_not_enqueued():
        for _ in range(24):
            submit_whistle(cast.s01_staff)

    # Four runs at once, claiming batches of five: each skips the rows another holds.
    outcomes = run_together(4, lambda i: whistles_route_waiting(batch=5))

    assert [error for _, error, _, _ in outcomes] == [None] * 4
    assert sum(result for result, _, _, _ in outcomes) == 24
    assert not Whistle.objects.filter(status=Whistle.Status.SUBMITTED).exists()
    assert Event.objects.filter(verb="routed").count() == 24
    for whistle_id in Whistle.objects.values_list("pk", flat=True):
        codes = sorted(Task.objects.filter(whistle_id=whistle_id).values_list("department__code", flat=True))
        assert codes == ["D12", "D13", "E06"]
    assert Notification.objects.filter(verb="summoned").count() == 72
    assert any(overlapped(outcomes) for outcomes in [outcomes])


def test_the_same_external_id_submitted_twice_at_the_same_moment_gives_one_whistle(cast):
    membership_of(cast.hotline)  # load the membership once, not in both threads
    races = []

    with routing_not_enqueued() as enqueued:
        for n in range(ROUNDS):
            races.append(
                run_together(
                    2,
                    lambda i, n=n: submit_whistle(
                        cast.hotline, category="ORDER-PUBLIC", external_id=f"12345-2026-{n:06d}", caller_name="张女士"
                    ),
                )
            )

    for n, outcomes in enumerate(races):
        assert [error for _, error, _, _ in outcomes] == [None, None]
        results = [result for result, _, _, _ in outcomes]
        assert sorted(result.created for result in results) == [False, True]
        assert results[0].whistle.pk == results[1].whistle.pk
        assert Whistle.objects.filter(external_id=f"12345-2026-{n:06d}").count() == 1
    assert Whistle.objects.count() == ROUNDS
    # Only the submission that stored the whistle calls for routing.
    assert len(enqueued) == ROUNDS
    assert Event.objects.filter(verb="submitted").count() == ROUNDS
    assert any(overlapped(outcomes) for outcomes in races)


def test_whistles_of_one_street_submitted_at_the_same_moment_get_distinct_gap_free_numbers(cast):
    """The street's first whistle of the year: the number counter row is created in the race itself."""
    membership_of(cast.s01_grid)
    assert not WhistleNumberSequence.objects.exists()

    with routing_not_enqueued():
        outcomes = run_together(4, lambda i: submit_whistle(cast.s01_grid, title=f"井盖缺失 {i}"))

    assert [error for _, error, _, _ in outcomes] == [None] * 4
    year = Whistle.objects.values_list("number", flat=True).first().split("-")[1]
    assert sorted(result.whistle.number for result, _, _, _ in outcomes) == [f"S01-{year}-{n:06d}" for n in range(1, 5)]
    assert list(WhistleNumberSequence.objects.values_list("last", flat=True)) == [4]


@pytest.mark.live_worker
def test_two_routing_runs_at_once_through_the_live_worker_create_one_set_of_tasks(cast, live_worker):
    with routing_not_enqueued():
        whistle = submit_whistle(cast.s01_staff).whistle
    # Two messages, as from a stale doorbell rung again and the re-enqueue job;
    # the worker's two processes take one each.
    runs = [route_waiting_whistles.apply_async(ignore_result=False) for _ in range(2)]

    for run in runs:
        try:
            run.get(timeout=WORKER_RESULT_TIMEOUT)
        except Exception as exc:
            raise AssertionError(f"the routing run failed or never ran: {exc!r}\n{worker_log(live_worker)}") from exc
    assert Whistle.objects.get(pk=whistle.pk).status == Whistle.Status.ROUTED
    codes = sorted(Task.objects.filter(whistle=whistle).values_list("department__code", flat=True))
    assert codes == ["D12", "D13", "E06"]
    assert Event.objects.filter(whistle=whistle, verb="routed").count() == 1
    assert Notification.objects.filter(whistle=whistle, verb="summoned").count() == 3

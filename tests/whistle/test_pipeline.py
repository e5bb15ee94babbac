"""The routing pipeline end to end: whistle_submit → broker → live Celery worker → tasks.

Runs on whatever is configured: SQLite and kombu's file transport by default,
PostgreSQL and Redis when DATABASE_URL and CELERY_BROKER_URL say so (CI runs
both). The worker is another process on the test database, so the tests
commit for real (`transaction=True`, which also makes `on_commit` fire) and
poll the database, with a bound, for what the worker did. The serialized
rollback gives every test back the rows the migrations seeded (deadline
policies, the work calendar), which the flush after a transactional test
removes.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import submit_whistle as submit
from tests.live_worker import broker_unreachable, queue_drained, wait_until, worker_log
from whistle.models import Event, Notification, Task, Whistle
from whistle.services import whistles_requeue_stuck

pytestmark = [pytest.mark.live_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A submit that cannot reach the broker must not keep the user waiting much longer than one that can.
BROKER_DOWN_SUBMIT_LIMIT_S = 2.0


def wait_for_status(whistle, statuses, queue):
    """The whistle's status once the worker moved it into one of `statuses` (30 s at most)."""

    def probe():
        return Whistle.objects.filter(pk=whistle.pk, status__in=statuses).values_list("status", flat=True).first()

    try:
        return wait_until(probe, what=f"routing of {whistle.number}")
    except AssertionError as exc:
        status = Whistle.objects.filter(pk=whistle.pk).values_list("status", flat=True).first()
        raise AssertionError(f"{exc}; it is {status!r}. Worker log:\n{worker_log(queue)}") from None


def test_a_submitted_whistle_is_routed_by_the_worker_with_tasks_deadlines_and_events(cast, live_worker):
    result = submit(cast.s01_staff)

    assert (result.created, result.enqueued) == (True, True)
    assert wait_for_status(result.whistle, [Whistle.Status.ROUTED], live_worker) == Whistle.Status.ROUTED
    whistle = Whistle.objects.get(pk=result.whistle.pk)
    tasks = {t.department.code: t for t in whistle.tasks.select_related("department")}
    assert {code: t.role for code, t in tasks.items()} == {"D13": "lead", "D12": "co_operating", "E06": "co_operating"}
    for task in tasks.values():
        assert task.status == Task.Status.PENDING
        assert whistle.submitted_at < task.acknowledge_due_at <= task.checkin_due_at <= task.resolve_due_at
        assert task.acknowledge_warn_at <= task.acknowledge_due_at and task.resolve_warn_at <= task.resolve_due_at
    assert [(e["department"], e["role"], e["scope"]) for e in whistle.routing] == [
        ("D13", "lead", "district"),
        ("D12", "co_operating", "district"),
        ("E06", "co_operating", "district"),
    ]
    assert all(entry["rule"] for entry in whistle.routing)
    assert whistle.routed_at is not None
    events = list(Event.objects.filter(whistle=whistle).values_list("verb", "actor__username", "system_actor"))
    assert events == [("submitted", "s01_staff", ""), ("routed", None, "router")]
    summoned = Notification.objects.filter(whistle=whistle, verb="summoned")
    assert sorted(summoned.values_list("department__code", flat=True)) == ["D12", "D13", "E06"]


def test_a_whistle_without_a_rule_waits_in_the_streets_dispatch_queue(cast, live_worker):
    result = submit(cast.s01_staff, category="MISC-OTHER")

    status = wait_for_status(result.whistle, [Whistle.Status.AWAITING_DISPATCH, Whistle.Status.ROUTED], live_worker)

    assert status == Whistle.Status.AWAITING_DISPATCH
    whistle = Whistle.objects.get(pk=result.whistle.pk)
    assert whistle.routing == [{"scope": "none"}]
    assert not Task.objects.filter(whistle=whistle).exists()
    assert list(Event.objects.filter(whistle=whistle).values_list("verb", flat=True)) == [
        "submitted",
        "awaiting_dispatch",
    ]
    notification = Notification.objects.get(whistle=whistle)
    assert (notification.street_id, notification.department_id) == (cast.s01.pk, None)


def test_a_burst_of_whistles_from_several_sources_is_routed_once_each(cast, live_worker):
    """Both worker processes busy at once: every whistle routed, by its street's rules, exactly once."""
    expected = {}
    for n in range(4):
        expected[submit(cast.s01_staff).whistle.pk] = {"D13", "D12", "E06"}
        expected[submit(cast.s02_staff, category="ORDER-PUBLIC", lon=115.955, lat=40.445).whistle.pk] = {"T04"}
        hotline = submit(
            cast.hotline, category="ORDER-PUBLIC", external_id=f"12345-{n:04d}", caller_phone="13800000000"
        )
        expected[hotline.whistle.pk] = {"T01"}

    def all_routed():
        return Whistle.objects.filter(pk__in=expected, status=Whistle.Status.ROUTED).count() == len(expected)

    try:
        wait_until(all_routed, what=f"routing of {len(expected)} whistles")
    except AssertionError as exc:
        raise AssertionError(f"{exc}. Worker log:\n{worker_log(live_worker)}") from None
    routed = {}
    for whistle_id, code in Task.objects.filter(whistle_id__in=expected).values_list("whistle_id", "department__code"):
        routed.setdefault(whistle_id, []).append(code)
    assert {pk: set(codes) for pk, codes in routed.items()} == expected
    assert all(len(codes) == len(set(codes)) for codes in routed.values())
    assert Event.objects.filter(whistle_id__in=expected, verb="routed").count() == len(expected)


def test_nothing_is_lost_when_the_broker_is_down_at_submit_time(cast, live_worker):
    queue_drained(live_worker)  # a late routing run of an earlier test would route this whistle too
    with broker_unreachable() as broker:
        result = submit(cast.s01_staff)

    whistle = Whistle.objects.get(pk=result.whistle.pk)
    assert (result.created, result.enqueued) == (True, False), broker
    assert whistle.status == Whistle.Status.SUBMITTED and whistle.submitted_at is not None
    assert list(Event.objects.filter(whistle=whistle).values_list("verb", flat=True)) == ["submitted"]
    # No message reached the worker: a second later the whistle still waits, untouched.
    time.sleep(1.5)
    assert Whistle.objects.get(pk=whistle.pk).status == Whistle.Status.SUBMITTED
    assert not Task.objects.filter(whistle=whistle).exists()
    # The beat job leaves it alone for its first minute, then hands it to routing again.
    assert whistles_requeue_stuck(now=timezone.now()) == 0

    assert whistles_requeue_stuck(now=timezone.now() + timedelta(minutes=1, seconds=5)) == 1

    assert wait_for_status(whistle, [Whistle.Status.ROUTED], live_worker) == Whistle.Status.ROUTED
    assert sorted(Task.objects.filter(whistle=whistle).values_list("department__code", flat=True)) == [
        "D12",
        "D13",
        "E06",
    ]
    assert Event.objects.filter(whistle=whistle, verb="routed").count() == 1
    assert whistles_requeue_stuck(now=timezone.now() + timedelta(minutes=5)) == 0


def test_a_submit_with_the_broker_down_answers_promptly(cast, live_worker):
    """The user is told "queued" at once, not after the client library's connection retries."""
    with broker_unreachable() as broker:
        started = time.monotonic()
        result = submit(cast.s01_staff)
        elapsed = time.monotonic() - started

    assert result.enqueued is False
    assert elapsed < BROKER_DOWN_SUBMIT_LIMIT_S, f"a submit with the broker down took {elapsed:.1f} s ({broker})"

"""Redis stopped while whistles come in through the API: every one is stored, answered at once, and routed once later.

The web server (gunicorn, as in the Procfile), a worker and beat run against
the private servers; the test stops Redis, submits, and starts it again
empty (no persistence: whatever it held is gone, as after a crash). The
whistles are routed by the re-enqueue job, which hands back whistles
waiting in `submitted` for longer than STUCK_AFTER (a minute; not a
setting): this test therefore takes a little over a minute.

A worker that has a message in hand when Redis goes away dies of it (kombu's
Redis channel fails to put the message back and raises an AttributeError the
worker takes as unrecoverable): deployments restart it (docker-compose.yml:
`restart: unless-stopped`), and so does the test, as a supervisor would. The
last test here pins that crash down.
"""

import time

from tests.faults.checks import (
    all_routed,
    assert_routed_once,
    backends_waiting_for_a_lock,
    http,
    statuses,
    unacknowledged,
)
from tests.faults.servers import wait_for
from whistle.models import Doorbell, Whistle
from whistle.services.requeue import STUCK_AFTER

COUNT = 10
# A submit with the broker down must answer about as fast as one with it up (the publish fails
# at once: broker transport options in settings.py), never hang in retries.
ANSWER_WITHIN_S = 3.0

WHISTLE = {
    "title": "楼道堆物",
    "description": "3号楼楼道堆满杂物，堵塞消防通道。",
    "category": "ENV-COMPOUND",
    "lon": 115.975,
    "lat": 40.465,
}


def submit(platform, n: int):
    return http(platform, "POST", "/api/v1/whistles/", token=platform.token, body={**WHISTLE, "title": f"堆物 {n}"})


def test_whistles_submitted_while_redis_is_down_are_stored_at_once_and_routed_once_when_it_is_back(platform):
    platform.web()
    worker = platform.worker()
    beat = platform.beat(every=1, jobs="requeue-stuck-whistles")
    # The pipeline works before the outage.
    before = submit(platform, 0)
    assert (before.status, before.json()["enqueued"]) == (201, True), before.body
    wait_for(lambda: all_routed(platform, 1), timeout=30, what="routing before the outage")

    platform.redis.stop()
    outage_started = time.monotonic()
    answers = [submit(platform, n) for n in range(1, COUNT + 1)]
    platform.redis.start()

    assert [a.status for a in answers] == [201] * COUNT, [a.body[:300] for a in answers if a.status != 201]
    assert [a.json()["enqueued"] for a in answers] == [False] * COUNT
    assert all(a.json()["notice"] for a in answers), "the answer tells the caller routing comes later"
    slowest = max(a.seconds for a in answers)
    assert slowest < ANSWER_WITHIN_S, f"a submit with Redis down took {slowest:.1f} s"
    numbers = [before.json()["number"]] + [a.json()["number"] for a in answers]
    assert statuses(platform) == {Whistle.Status.ROUTED: 1, Whistle.Status.SUBMITTED: COUNT}

    workers = [worker]

    def routed_with_a_supervised_worker():
        if workers[-1].process.poll() is not None:
            workers.append(platform.worker(f"worker-restart-{len(workers)}"))  # restart: unless-stopped
        return all_routed(platform, COUNT + 1)

    bound = STUCK_AFTER.total_seconds() + 30 - (time.monotonic() - outage_started)
    try:
        wait_for(routed_with_a_supervised_worker, timeout=bound, what="routing after the outage")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {statuses(platform)}\nbeat log:\n{beat.log(2000)}\nworker log:\n{workers[-1].log()}"
        ) from None
    assert_routed_once(platform, numbers)
    # Beat rode out the outage: it reconnected by itself.
    assert beat.process.poll() is None


def test_with_the_rate_counters_in_the_same_redis_a_submit_is_still_stored_while_redis_is_down(platform):
    """The API's rate limiter counts in the cache: a cache that does not answer must not stop the intake."""
    platform.cache_url = platform.redis.url(1)  # as CI runs the suite, and as settings.py suggests for production
    platform.web()
    platform.redis.stop()
    answer = submit(platform, 1)
    platform.redis.start()

    assert answer.status == 201, answer.body[:300]
    assert answer.json()["enqueued"] is False
    assert statuses(platform) == {Whistle.Status.SUBMITTED: 1}


def test_a_worker_busy_with_a_message_when_redis_goes_away_outlives_the_outage(platform):
    numbers = platform.scenario("submit", "--count", "1")["numbers"]
    with platform.postgres.connect(platform.database) as blocker:
        # The routing run waits for the doorbell row: its message stays in the worker's hands.
        blocker.execute(f"SELECT 1 FROM {Doorbell._meta.db_table} WHERE name = %s FOR UPDATE", [Doorbell.ROUTING])
        worker = platform.worker()
        wait_for(lambda: backends_waiting_for_a_lock(platform), timeout=30, what="the routing run to start")
        assert unacknowledged(platform) == 1
        platform.redis.stop()
        time.sleep(2)
        blocker.rollback()
    platform.redis.start()
    time.sleep(3)

    assert worker.process.poll() is None, f"the worker exited; its log:\n{worker.log()}"
    wait_for(lambda: all_routed(platform, 1), timeout=30, what="routing")
    assert_routed_once(platform, numbers)

"""A worker killed while it routes: nothing half done, and every whistle routed exactly once after all.

The routing run is caught in the middle deterministically, without a hook in
the code: the test holds a lock the run needs (the task table, or the
routing doorbell) so the worker blocks there, with the message taken and not
acknowledged (acks_late), then kills it.
"""

import os
import signal

from tests.faults.checks import (
    TASK,
    assert_routed_once,
    backends_waiting_for_a_lock,
    other_backends,
    query,
    statuses,
    unacknowledged,
)
from tests.faults.servers import wait_for
from whistle.models import Doorbell, Whistle
from whistle.services.requeue import STUCK_AFTER

COUNT = 50
# Submitted this long before the crash: past the re-enqueue job's threshold (STUCK_AFTER), so
# that the job's first run after the restart hands them back, instead of a minute later.
WAITED_S = STUCK_AFTER.total_seconds() + 30
ROUTED_WITHIN_S = 40


def test_a_worker_killed_in_the_middle_of_routing_commits_nothing_and_after_a_restart_each_whistle_is_routed_once(
    platform,
):
    numbers = platform.scenario("submit", "--count", str(COUNT), "--ago", str(WAITED_S))["numbers"]
    assert statuses(platform) == {Whistle.Status.SUBMITTED: COUNT}

    with platform.postgres.connect(platform.database) as blocker:
        # The run claims its batch of whistles, then waits at its first INSERT of tasks.
        blocker.execute(f"LOCK TABLE {TASK} IN SHARE MODE")
        worker = platform.worker()
        waiting = wait_for(
            lambda: [q for _pid, q in backends_waiting_for_a_lock(platform) if TASK in q],
            timeout=30,
            what="the routing run to reach the task table",
        )
        assert unacknowledged(platform) >= 1, "the worker holds its message unacknowledged while it routes"
        worker.kill()  # SIGKILL to the main process and its pool: no cleanup, no reject
        blocker.rollback()
    # PostgreSQL rolls the dead worker's transaction back once its session notices the client is gone.
    wait_for(lambda: other_backends(platform) == 0, timeout=20, what="the dead worker's session to end")

    assert waiting and "INSERT" in waiting[0]
    assert statuses(platform) == {Whistle.Status.SUBMITTED: COUNT}, "a half-done routing run was committed"
    assert query(platform, f"SELECT count(*) FROM {TASK}") == [(0,)]
    # The message died with the worker, unacknowledged: Redis gives it back only after the
    # visibility timeout (an hour). The re-enqueue job does not wait for that.
    assert unacknowledged(platform) >= 1

    restarted = platform.worker("worker-restarted")
    platform.beat(every=1, jobs="requeue-stuck-whistles")
    try:
        wait_for(lambda: statuses(platform) == {Whistle.Status.ROUTED: COUNT}, timeout=ROUTED_WITHIN_S, what="routing")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {statuses(platform)}; worker log:\n{restarted.log()}") from None

    assert_routed_once(platform, numbers)
    assert f"called a routing run for {COUNT} whistles left in submitted" in restarted.log(tail=10**7)


def test_a_pool_process_killed_under_a_routing_run_gives_its_message_back_and_each_whistle_is_routed_once(platform):
    """reject_on_worker_lost: the worker's main process lives on and puts the message back for its new pool process."""
    numbers = platform.scenario("submit", "--count", "20")["numbers"]

    with platform.postgres.connect(platform.database) as blocker:
        # The run's first statement silences the routing doorbell: it waits there, its message taken.
        blocker.execute(f"SELECT 1 FROM {Doorbell._meta.db_table} WHERE name = %s FOR UPDATE", [Doorbell.ROUTING])
        worker = platform.worker(concurrency=1)
        wait_for(lambda: len(backends_waiting_for_a_lock(platform)) == 1, timeout=30, what="the run to start")
        [pool_process] = worker.children()
        os.kill(pool_process, signal.SIGKILL)
        # The message comes back and the new pool process runs it: it waits for the same lock,
        # beside the dead process's session (which PostgreSQL has not noticed yet).
        wait_for(
            lambda: len(backends_waiting_for_a_lock(platform)) == 2,
            timeout=30,
            what=f"the message to be run again; worker log:\n{worker.log()}",
        )
        blocker.rollback()

    wait_for(lambda: statuses(platform) == {Whistle.Status.ROUTED: 20}, timeout=30, what="routing")
    assert_routed_once(platform, numbers)
    log = worker.log(tail=10**7)
    assert "WorkerLostError" in log and worker.process.poll() is None
    wait_for(lambda: unacknowledged(platform) == 0, timeout=10, what="the message to be acknowledged")

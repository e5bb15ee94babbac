"""Two beat processes at once (a second one started by mistake, or during a hand-over): each escalation step still once.

Both beats send the deadline sweep (tests.faults.fast_beat: every second
instead of every minute) to a worker with four pool processes. To make sure
sweeps really run side by side, the test first holds the event table, which
every sweep writes to: the sweeps from both beats pile up behind it and
start racing for the same due tasks the moment it lets go. Then more overdue
tasks arrive while the beats go on sweeping. The sweeps claim due tasks with
FOR UPDATE SKIP LOCKED and set each step's marker in the same transaction
(escalation.services): every task must get each step of its ladder (warning,
overdue, supervision order, accountability record) exactly once.
"""

import re
import time
from collections import Counter
from datetime import datetime

from tests.faults.checks import EVENT, ORDER, RECORD, TASK, backends_waiting_for_a_lock, query, sweeper_steps
from tests.faults.servers import wait_for

WAVES = 3
WHISTLES_PER_WAVE = 30  # 3 tasks each
DAYS_LATE = 20  # past every rung of the ordinary grade's ladder
# Every task of an ordinary whistle this late: warned, overdue, supervised, held to account.
LADDER = {
    ("warning", "acknowledge_warning"),
    ("overdue", "acknowledge_overdue"),
    ("supervision_ordered", "supervision"),
    ("accountability_recorded", "accountability"),
}
SWEEP_LOG = re.compile(r"^(\S+ \S+) INFO celery\.app\.trace Task escalation\.sweep\[[^]]+\] succeeded in ([\d.]+)s")


def sweeps_run(log: str) -> list[tuple[float, float]]:
    """(start, end) in seconds of every sweep the worker finished, from its log."""
    spans = []
    for line in log.splitlines():
        match = SWEEP_LOG.match(line)
        if match:
            end = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            spans.append((end - float(match[2]), end))
    return spans


def most_at_once(spans: list[tuple[float, float]]) -> int:
    moments = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, change in moments:
        running += change
        peak = max(peak, running)
    return peak


def test_two_beats_sweeping_at_once_fire_every_escalation_step_of_every_task_once(platform):
    platform.scenario("overdue", "--count", str(WHISTLES_PER_WAVE), "--days", str(DAYS_LATE))
    with platform.postgres.connect(platform.database) as blocker:
        blocker.execute(f"LOCK TABLE {EVENT} IN SHARE MODE")
        worker = platform.worker(concurrency=4)
        beats = [platform.beat(name, every=1, jobs="sweep-deadlines") for name in ("beat-1", "beat-2")]
        wait_for(
            lambda: len(backends_waiting_for_a_lock(platform)) >= 3,
            timeout=30,
            what=f"three sweeps waiting together; worker log:\n{worker.log()}",
        )
        blocker.rollback()
    # More overdue tasks arrive while both beats sweep.
    for _ in range(WAVES - 1):
        platform.scenario("overdue", "--count", str(WHISTLES_PER_WAVE), "--days", str(DAYS_LATE))
    tasks = query(platform, f"SELECT count(*) FROM {TASK}")[0][0]
    assert tasks == WAVES * WHISTLES_PER_WAVE * 3

    def all_escalated():
        return len(sweeper_steps(platform)) == tasks * len(LADDER)

    try:
        wait_for(all_escalated, timeout=60, what="every step of every task")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {len(sweeper_steps(platform))} fired; worker log:\n{worker.log()}") from None
    time.sleep(3)  # a few more sweeps from both beats, with nothing left to do

    steps = sweeper_steps(platform)
    assert {count for count in steps.values()} == {1}, [key for key, count in steps.items() if count > 1]
    per_task = Counter(task for task, _verb, _step in steps)
    assert len(per_task) == tasks and set(per_task.values()) == {len(LADDER)}
    assert {(verb, step) for _task, verb, step in steps} == LADDER
    assert query(platform, f"SELECT count(*), count(DISTINCT task_id) FROM {ORDER}") == [(tasks, tasks)]
    assert query(platform, f"SELECT count(*), count(DISTINCT task_id) FROM {RECORD} WHERE kind = 'overdue'") == [
        (tasks, tasks)
    ]
    # Both beats sent sweeps all along, and the worker ran them side by side.
    sent = [beat.log(tail=10**7).count("Sending due task sweep-deadlines") for beat in beats]
    assert min(sent) >= 5, sent
    spans = sweeps_run(worker.log(tail=10**7))
    assert len(spans) >= sum(sent) // 2
    assert most_at_once(spans) >= 3

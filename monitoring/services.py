"""Writes of the monitoring app: the heartbeats /healthz reads and the figures /metrics reports.

Routing and the deadline sweep each make one call in here. Their figures
are written once their transaction has committed (`transaction.on_commit`),
in a short transaction of their own: a routing run never waits for a
counter's row lock, and a whistle is counted only once its routing is
stored. A counter is added to with `UPDATE … SET value = value + n` on one
of SHARDS rows chosen at random, the rows locked in a fixed order first
(no deadlock between two writers); /metrics adds the shards up, so every
web host reports the same figures whichever worker did the work. A figure
that cannot be written is logged and lost: monitoring never fails the
work it watches.
"""

import logging
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial, reduce, wraps
from operator import or_

from django.db import DatabaseError, transaction
from django.db.models import Case, F, FloatField, Q, Value, When
from django.utils import timezone
from prometheus_client.utils import floatToGoString

from monitoring.models import Figure, Heartbeat

logger = logging.getLogger(__name__)
routing_log = logging.getLogger("monitoring.routing")
sweep_log = logging.getLogger("monitoring.sweep")

SHARDS = 8
# A worker host's heartbeat row not renewed for this long belongs to a host that is gone.
WORKER_ROW_KEPT = timedelta(days=7)

# The figures' names, as /metrics shows them (monitoring.metrics).
ROUTED = "whistle_routed_total"
OUTCOMES = ("routed", "no_rule", "failed")
LATENCY = "whistle_routing_latency_seconds"
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, float("inf"))
SWEEPS = "whistle_sweeps_total"
SWEEP_STEPS = "whistle_sweep_steps_total"
SWEEP_FAILED_ROWS = "whistle_sweep_failed_rows_total"
SWEEP_DURATION = "whistle_sweep_last_duration_seconds"
SWEEP_FINISHED = "whistle_sweep_last_finished_timestamp_seconds"
# Whistles submitted up to a mark (Unix time, whole seconds): /metrics counts only those after it.
SUBMITTED_SETTLED = "whistle_submitted_settled"
SUBMITTED_MARK = "whistle_submitted_mark"
# The mark stays this far behind now: a submission's transaction has long committed by then.
SETTLE_BEHIND = timedelta(minutes=10)

Key = tuple[str, str]  # (name, labels)


def labels_text(**labels: str) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(labels.items()))


def latency_bucket(seconds: float) -> str:
    """The `le` of the one bucket the latency is stored in (/metrics makes the buckets cumulative)."""
    return floatToGoString(next(le for le in LATENCY_BUCKETS if seconds <= le))


# Heartbeats -----------------------------------------------------------------------------


def heartbeat_record(*, kind: str, name: str = "", now: datetime | None = None) -> None:
    """Move the heartbeat of beat, or of one worker host, to now: one upsert."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(kind=kind, name=name[:255], at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["kind", "name"],
        update_fields=["at"],
    )


def worker_heartbeat(*, hostname: str | None, now: datetime | None = None) -> None:
    """The worker that ran the heartbeat task is alive; rows of hosts gone for a week are removed."""
    now = now or timezone.now()
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name=hostname or socket.gethostname(), now=now)
    Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER, at__lt=now - WORKER_ROW_KEPT).delete()


# Figures --------------------------------------------------------------------------------


def _rows(keys: list[Key], shard: int) -> dict[Key, int]:
    wanted = reduce(or_, (Q(name=name, labels=labels) for name, labels in keys))
    rows = Figure.objects.filter(wanted, shard=shard).values_list("name", "labels", "pk")
    return {(name, labels): pk for name, labels, pk in rows}


def figures_add(increments: dict[Key, float]) -> None:
    """Add to counters, all on one shard chosen at random, in one short transaction."""
    keys = sorted(key for key, amount in increments.items() if amount)
    if not keys:
        return
    shard = random.randrange(SHARDS)  # nosec B311 # spreads writers over shards; nothing secret
    rows = _rows(keys, shard)
    if len(rows) < len(keys):
        # Created once per figure and shard, outside the transaction below: no lock is held meanwhile.
        missing = [Figure(name=name, labels=labels, shard=shard) for name, labels in keys if (name, labels) not in rows]
        Figure.objects.bulk_create(missing, ignore_conflicts=True)
        rows = _rows(keys, shard)
    pks = sorted(rows.values())
    with transaction.atomic():
        # Locked in primary-key order: two writers wanting the same rows queue up, never deadlock.
        list(Figure.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))
        amount = Case(
            *(When(pk=pk, then=Value(float(increments[key]))) for key, pk in rows.items()),
            default=Value(0.0),
            output_field=FloatField(),
        )
        Figure.objects.filter(pk__in=pks).update(value=F("value") + amount)


def figures_set(values: dict[Key, float]) -> None:
    """Set gauges (shard 0): one upsert."""
    Figure.objects.bulk_create(
        [Figure(name=name, labels=labels, shard=0, value=value) for (name, labels), value in sorted(values.items())],
        update_conflicts=True,
        unique_fields=["name", "labels", "shard"],
        update_fields=["value"],
    )


def _after_commit(write: Callable[[], None], what: str) -> None:
    def guarded():
        try:
            write()
        except DatabaseError:
            logger.exception("monitoring: the figures of %s were not stored", what)

    transaction.on_commit(guarded, robust=True)


# Submissions --------------------------------------------------------------------------------


def submissions_settle(*, now: datetime | None = None) -> int:
    """Add the whistles submitted since the mark to the settled count and move the mark up; returns them.

    Counting every whistle ever submitted on every scrape grows with the
    years (~150 ms for a million on PostgreSQL); with the count settled up
    to a mark ten minutes back, a scrape counts only the whistles after it,
    a range of the indexed `submitted_at`. The mark stays behind now so that
    a submission still being committed is counted after it, not lost before
    it; a whistle stored with a submission time older than the mark (a
    demo's history) is not counted.
    """
    from whistle.models import Whistle

    now = now or timezone.now()
    mark = int((now - SETTLE_BEHIND).timestamp())
    with transaction.atomic():
        # Locked: two runs at once count each range once (the very first run has no row to lock,
        # and both first runs write a count and a mark that agree with each other).
        locked = Figure.objects.select_for_update().filter(
            name__in=[SUBMITTED_MARK, SUBMITTED_SETTLED], labels="", shard=0
        )
        held = dict(locked.values_list("name", "value"))
        since = held.get(SUBMITTED_MARK)
        if since is not None and mark <= since:
            return 0
        added = Whistle.objects.filter(submitted_at__lte=datetime.fromtimestamp(mark, UTC))
        if since is not None:
            added = added.filter(submitted_at__gt=datetime.fromtimestamp(since, UTC))
        count = added.count()
        figures_set({(SUBMITTED_MARK, ""): mark, (SUBMITTED_SETTLED, ""): held.get(SUBMITTED_SETTLED, 0.0) + count})
    return count


# Routing --------------------------------------------------------------------------------


def routing_record(
    *, routed: Iterable, unmatched: Iterable = (), failed: Iterable = (), now: datetime | None = None
) -> None:
    """Count and log what a routing run did with its whistles, once its transaction commits.

    `routed` went to their departments, `unmatched` (no rule) and `failed`
    (the router choked on them) to the street's dispatcher. The latency of
    a routed whistle is from its submission to `now`, the routing time.
    """
    outcomes = [(w.pk, w.number, "routed") for w in routed]
    outcomes += [(w.pk, w.number, "no_rule") for w in unmatched]
    outcomes += [(w.pk, w.number, "failed") for w in failed]
    if outcomes:
        _after_commit(partial(_routing_committed, outcomes=outcomes, now=now or timezone.now()), "a routing run")


def _routing_committed(*, outcomes: list[tuple[int, str, str]], now: datetime) -> None:
    from whistle.models import Whistle  # whistle calls in here: no import of it at load time

    routed_ids = [pk for pk, _number, outcome in outcomes if outcome == "routed"]
    submitted = dict(Whistle.objects.filter(pk__in=routed_ids).values_list("pk", "submitted_at")) if routed_ids else {}
    increments: Counter = Counter()
    for pk, number, outcome in outcomes:
        increments[(ROUTED, labels_text(outcome=outcome))] += 1
        extra = {"whistle": number, "outcome": outcome}
        if outcome != "routed":
            routing_log.info("whistle %s waits for the dispatcher (%s)", number, outcome, extra=extra)
        elif submitted.get(pk) is None:
            routing_log.info("whistle %s routed", number, extra=extra)
        else:
            latency = max(0.0, (now - submitted[pk]).total_seconds())
            increments[(f"{LATENCY}_bucket", labels_text(le=latency_bucket(latency)))] += 1
            increments[(f"{LATENCY}_sum", "")] += latency
            extra["latency_s"] = round(latency, 3)
            routing_log.info("whistle %s routed %.3f s after its submission", number, latency, extra=extra)
    figures_add(increments)


# The deadline sweep -------------------------------------------------------------------------


def sweep_observed(sweep: Callable) -> Callable:
    """Decorate the deadline sweep: count and log each run, with how long it took and what it fired.

    The sweep returns a result with `steps` (a Counter of the steps fired)
    and `failed` (rows put off).
    """

    @wraps(sweep)
    def observed(*args, **kwargs):
        started = time.perf_counter()
        result = sweep(*args, **kwargs)
        duration = time.perf_counter() - started
        write = partial(
            _sweep_committed,
            steps=dict(result.steps),
            failed=result.failed,
            duration=duration,
            finished=timezone.now(),
        )
        _after_commit(write, "a sweep")
        return result

    return observed


def _sweep_committed(*, steps: dict[str, int], failed: int, duration: float, finished: datetime) -> None:
    fired = sum(steps.values())
    sweep_log.info(
        "sweep finished in %.3f s: %d steps fired, %d rows failed",
        duration,
        fired,
        failed,
        extra={"duration_s": round(duration, 3), "fired": fired, "steps": steps, "failed_rows": failed},
    )
    increments = {(SWEEPS, ""): 1, (SWEEP_FAILED_ROWS, ""): failed}
    increments.update({(SWEEP_STEPS, labels_text(step=step)): count for step, count in steps.items()})
    figures_add(increments)
    figures_set({(SWEEP_DURATION, ""): duration, (SWEEP_FINISHED, ""): finished.timestamp()})

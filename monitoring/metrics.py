"""The Prometheus exposition of /metrics, built afresh from the database (and the broker) on every scrape.

Nothing is kept in a process's memory: every web host answers with the
same figures, whichever host or worker did the work.

| metric | type | from |
|---|---|---|
| whistle_submitted_total | counter | whistles with a submission time (indexed column; monitoring.services.submissions_settle) |
| whistle_waiting_for_routing | gauge | whistles still `submitted` (partial index) |
| whistle_routed_total{outcome} | counter | routing runs: routed, no_rule, failed (monitoring.services) |
| whistle_routing_latency_seconds | histogram | submission → routing, of the whistles routed |
| whistle_broker_up, whistle_broker_queue_messages{queue} | gauge | the broker, asked now |
| whistle_sweeps_total, whistle_sweep_steps_total{step}, whistle_sweep_failed_rows_total | counter | deadline sweeps |
| whistle_sweep_last_duration_seconds, whistle_sweep_last_finished_timestamp_seconds | gauge | the last sweep |
| whistle_open_tasks{department}, whistle_warning_open_tasks{department}, whistle_overdue_open_tasks{department} | gauge | the dashboard's tally |
| whistle_open_tasks_tally_age_seconds | gauge | when that tally was counted |
| whistle_heartbeat_age_seconds{component} | gauge | beat's and the youngest worker's heartbeat |
"""

import logging

from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from monitoring import selectors
from monitoring.health import queue_depths
from monitoring.services import (
    LATENCY,
    LATENCY_BUCKETS,
    OUTCOMES,
    ROUTED,
    SWEEP_DURATION,
    SWEEP_FAILED_ROWS,
    SWEEP_FINISHED,
    SWEEP_STEPS,
    SWEEPS,
    labels_text,
)

logger = logging.getLogger(__name__)


def exposition() -> bytes:
    """The text of /metrics (Prometheus text format 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector())
    return generate_latest(registry)


class PlatformCollector:
    def collect(self):
        now = timezone.now()
        figures = selectors.figure_totals()
        yield from _pipeline(figures)
        yield from _broker()
        yield from _sweeps(figures)
        yield from _open_tasks(now)
        ages = selectors.heartbeat_ages(now=now)
        heartbeat = GaugeMetricFamily(
            "whistle_heartbeat_age_seconds",
            "Seconds since beat's heartbeat and since the youngest worker's (absent: none yet).",
            labels=["component"],
        )
        for component, age in sorted(ages.items()):
            heartbeat.add_metric([component], age)
        yield heartbeat


def _pipeline(figures: dict):
    yield CounterMetricFamily(
        "whistle_submitted",
        "Whistles submitted (a party-office draft once issued).",
        value=selectors.whistles_submitted(figures),
    )
    yield GaugeMetricFamily(
        "whistle_waiting_for_routing",
        "Whistles submitted and not routed yet.",
        value=selectors.whistles_waiting_for_routing(),
    )
    routed = CounterMetricFamily(
        "whistle_routed", "Whistles the router took, by outcome: routed, no_rule or failed (to the dispatcher).",
        labels=["outcome"],
    )  # fmt: skip
    for outcome in OUTCOMES:
        routed.add_metric([outcome], figures.get((ROUTED, labels_text(outcome=outcome)), 0.0))
    yield routed
    buckets, cumulative = [], 0.0
    for le in LATENCY_BUCKETS:
        text = floatToGoString(le)
        cumulative += figures.get((f"{LATENCY}_bucket", labels_text(le=text)), 0.0)
        buckets.append((text, cumulative))
    yield HistogramMetricFamily(
        LATENCY,
        "Seconds from a whistle's submission to its routing, of the whistles the router routed.",
        buckets=buckets,
        sum_value=figures.get((f"{LATENCY}_sum", ""), 0.0),
    )


def _broker():
    up = GaugeMetricFamily("whistle_broker_up", "1 when the Celery broker answered this scrape, else 0.")
    depth = GaugeMetricFamily("whistle_broker_queue_messages", "Messages waiting in a Celery queue.", labels=["queue"])
    try:
        depths = queue_depths()
    except Exception as exc:  # noqa: BLE001 - a broker that is down is a figure, not a failed scrape
        logger.warning("metrics: the broker does not answer: %r", exc)
        up.add_metric([], 0)
    else:
        up.add_metric([], 1)
        for queue, messages in depths.items():
            depth.add_metric([queue], messages)
    yield up
    yield depth


def _sweeps(figures: dict):
    yield CounterMetricFamily("whistle_sweeps", "Deadline sweeps run.", value=figures.get((SWEEPS, ""), 0.0))
    steps = CounterMetricFamily(
        "whistle_sweep_steps", "Ladder steps the deadline sweeps fired, by step.", labels=["step"]
    )
    prefix = "step="
    for (name, labels), value in sorted(figures.items()):
        if name == SWEEP_STEPS and labels.startswith(prefix):
            steps.add_metric([labels.removeprefix(prefix)], value)
    yield steps
    yield CounterMetricFamily(
        "whistle_sweep_failed_rows", "Rows a deadline sweep could not handle (put off for an hour).",
        value=figures.get((SWEEP_FAILED_ROWS, ""), 0.0),
    )  # fmt: skip
    for name, help_text in (
        (SWEEP_DURATION, "Seconds the last deadline sweep took."),
        (SWEEP_FINISHED, "When the last deadline sweep finished (Unix time)."),
    ):
        if (name, "") in figures:
            yield GaugeMetricFamily(name, help_text, value=figures[(name, "")])


def _open_tasks(now):
    tallies, counted_at = selectors.open_tasks_by_department(now=now)
    families = {
        "open": GaugeMetricFamily("whistle_open_tasks", "Open tasks per department.", labels=["department"]),
        "warning": GaugeMetricFamily(
            "whistle_warning_open_tasks", "Open tasks in warning (yellow) per department.", labels=["department"]
        ),
        "overdue": GaugeMetricFamily(
            "whistle_overdue_open_tasks", "Open tasks overdue (red) per department.", labels=["department"]
        ),
    }
    for tally in tallies:
        for light, family in families.items():
            family.add_metric([tally.code], getattr(tally, light))
    yield from families.values()
    yield GaugeMetricFamily(
        "whistle_open_tasks_tally_age_seconds",
        "Seconds since the tally behind whistle_*open_tasks was counted.",
        value=max(0.0, (now - counted_at).total_seconds()),
    )

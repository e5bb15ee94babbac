"""Reads behind /metrics: each a handful of rows, however many whistles and tasks there are."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Sum
from django.utils import timezone

from escalation.models import OpenTaskTally
from escalation.services import open_tasks_tally_fresh
from monitoring.models import Figure, Heartbeat
from monitoring.services import SUBMITTED_MARK, SUBMITTED_SETTLED
from whistle.models import Whistle


def figure_totals() -> dict[tuple[str, str], float]:
    """Every figure, its shards added up: {(name, labels): value}."""
    rows = Figure.objects.order_by().values("name", "labels").annotate(total=Sum("value"))
    return {(row["name"], row["labels"]): row["total"] for row in rows}


def whistles_submitted(figures: dict[tuple[str, str], float]) -> int:
    """Whistles ever submitted (a draft once issued): the settled count and those after its mark.

    `submitted_at` is set once and never cleared, so the figure only grows,
    as a Prometheus counter must (monitoring.services.submissions_settle).
    """
    mark = figures.get((SUBMITTED_MARK, ""))
    if mark is None:
        return Whistle.objects.filter(submitted_at__isnull=False).count()
    since = Whistle.objects.filter(submitted_at__gt=datetime.fromtimestamp(mark, UTC)).count()
    return int(figures.get((SUBMITTED_SETTLED, ""), 0.0)) + since


def whistles_waiting_for_routing() -> int:
    """Whistles submitted and not routed yet: a count over the partial index of exactly those."""
    return Whistle.objects.filter(status=Whistle.Status.SUBMITTED).count()


@dataclass(frozen=True)
class DepartmentTally:
    code: str
    open: int
    warning: int
    overdue: int


def open_tasks_by_department(*, now: datetime | None = None) -> tuple[list[DepartmentTally], datetime]:
    """Open, warning and overdue tasks per department, from the dashboard's tally, and when it was counted.

    The tally is counted again only when older than DASHBOARD_TALLY_MAX_AGE_S
    (beat renews it every minute), as for the overdue dashboard: a scrape
    sums a few thousand rows instead of counting every open task.
    """
    counted_at = open_tasks_tally_fresh(now=now)
    rows = (
        OpenTaskTally.objects.order_by("department__code")
        .values("department__code")
        .annotate(n_open=Sum("open"), n_warning=Sum("warning"), n_overdue=Sum("overdue"))
    )
    tallies = [
        DepartmentTally(
            code=row["department__code"], open=row["n_open"], warning=row["n_warning"], overdue=row["n_overdue"]
        )
        for row in rows
    ]
    return tallies, counted_at


def heartbeat_ages(*, now: datetime | None = None) -> dict[str, float]:
    """Seconds since beat's heartbeat and since the youngest worker's, for the kinds that have one."""
    now = now or timezone.now()
    latest: dict[str, datetime] = {}
    for kind, at in Heartbeat.objects.values_list("kind", "at"):
        latest[kind] = max(at, latest.get(kind, at))
    return {kind: max(0.0, (now - at).total_seconds()) for kind, at in latest.items()}

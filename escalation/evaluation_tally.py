"""The evaluation tally: the facts behind the three rates, counted per month, department and street.

A monthly ranking needs a month of tasks joined to their whistles twice over
(the month and the one before): about 400,000 rows at a district of a
million whistles a year, a second or more. The tally holds the result of
escalation.evaluation.fact_counts for each month — a few hundred rows — so a
ranking reads it in milliseconds. It stays exact the way the overdue
dashboard's tally does: a month is counted again, in one transaction (its
rows and its stamp replaced together, so a reader sees one count or the
other), by beat every few minutes for the current and the previous month,
and on reading any month whose count is older than
settings.EVALUATION_TALLY_MAX_AGE_S. A count made at a moment equals the
direct computation at that moment (tests/escalation/evaluation/test_tally.py);
the ranking says when its count was made (`Ranking.counted_at`).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from escalation.evaluation import CURRENT, FACTS, PREVIOUS, Facts, fact_counts
from escalation.models import EvaluationTally, EvaluationTallyMonth
from escalation.periods import Period
from grids.models import District


@transaction.atomic
def evaluation_tally_count(
    *, district: District, month: Period, now: datetime | None = None, unless_fresh: bool = False
) -> int | None:
    """Count the district's month again (three grouped queries) and replace its rows; how many rows were written.

    With `unless_fresh`, a month found counted recently enough once its stamp
    is locked (someone else counted it meanwhile) is left as it is: None.
    """
    now = now or timezone.now()
    # The stamp row first, locked: two counts of one month at once write one after the other.
    stamp, created = EvaluationTallyMonth.objects.select_for_update().get_or_create(
        district=district, month=month.first, defaults={"counted_at": now}
    )
    if unless_fresh and not created and not _stale(stamp.counted_at, now):
        return None
    facts = fact_counts(district=district, current=month, now=now)
    rows = [
        EvaluationTally(district=district, month=month.first, department_id=department, street_id=street, **counts)
        for (_bucket, department, street), counts in facts.items()
    ]
    EvaluationTally.objects.filter(district=district, month=month.first).delete()
    EvaluationTally.objects.bulk_create(rows, batch_size=2000)
    if not created:
        EvaluationTallyMonth.objects.filter(pk=stamp.pk).update(counted_at=now)
    return len(rows)


def _stale(counted_at: datetime | None, now: datetime) -> bool:
    max_age = timedelta(seconds=settings.EVALUATION_TALLY_MAX_AGE_S)
    return counted_at is None or counted_at > now or now - counted_at >= max_age


def evaluation_tally_fresh(*, district: District, months: list[Period], now: datetime | None = None) -> datetime:
    """Count again each month never counted or older than EVALUATION_TALLY_MAX_AGE_S; when the oldest count in use was made."""
    now = now or timezone.now()
    stamps = dict(
        EvaluationTallyMonth.objects.filter(district=district, month__in=[m.first for m in months]).values_list(
            "month", "counted_at"
        )
    )
    used = []
    for month in months:
        counted_at = stamps.get(month.first)
        if _stale(counted_at, now):
            if evaluation_tally_count(district=district, month=month, now=now, unless_fresh=True) is None:
                counted_at = EvaluationTallyMonth.objects.get(district=district, month=month.first).counted_at
            else:
                counted_at = now
        used.append(counted_at)
    return min(used)


def tallied_facts(
    *, district: District, current: Period, previous: Period, now: datetime | None = None
) -> tuple[Facts, datetime]:
    """The facts of two months from the tally, as fact_counts gives them (bucket 0 and 1), and when they were counted."""
    counted_at = evaluation_tally_fresh(district=district, months=[current, previous], now=now)
    bucket = {current.first: CURRENT, previous.first: PREVIOUS}
    rows = EvaluationTally.objects.filter(district=district, month__in=list(bucket)).values_list(
        "month", "department_id", "street_id", *FACTS
    )
    facts: Facts = {}
    for month, department, street, *counts in rows:
        facts[bucket[month], department, street] = dict(zip(FACTS, counts, strict=True))
    return facts, counted_at


def evaluation_tally_recent(*, now: datetime | None = None) -> int:
    """Beat's job: count the current and the previous month again for every district; how many rows were written."""
    now = now or timezone.now()
    current = Period.current_month(now)
    written = 0
    for district in District.objects.order_by("pk"):
        for month in (current, current.previous()):
            written += evaluation_tally_count(district=district, month=month, now=now)
    return written

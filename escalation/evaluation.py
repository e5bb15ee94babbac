"""The three rates (三率), the composite score and the rankings; bottom-up ratings and each department's side figures.

Everything is counted from facts frozen when they happened, each in the
period its moment falls in (local time, settings.TIME_ZONE), never from
today's state of a row:

- **Response rate** (响应率) = tasks acknowledged on time ÷ tasks whose
  acknowledgement fell due in the period (`Task.acknowledge_due_at`). On time
  or late is the flag frozen when the task was acknowledged (or checked in
  straight away), `Task.acknowledged_on_time`. A task not acknowledged by its
  deadline counts in the denominator and not in the numerator, as soon as the
  deadline has passed — unless it left the department's hands before the
  deadline without being acknowledged: returned (退回, `returned_at`) or
  released by the dispatcher (a released task's `updated_at` is the moment of
  its release). A department is judged on its tasks; a street on the tasks of
  its whistles.
- **Resolution rate** (解决率) = whistles judged solved ÷ whistles closed in the
  period. "Closed" is the street's confirmation (`whistle_confirm`, resolved →
  closed, `Whistle.closed_at`). "Judged solved": the citizen's latest callback
  recorded since that closing says solved (`Callback.solved`); without a
  callback, the street's confirmation itself is the verdict — the street
  accepted the departments' result rather than reopening it. A street is
  judged on its whistles, a department on the whistles it led (its lead
  task closed them).
- **Satisfaction rate** (满意率) = (satisfied + basically satisfied) ÷ rated,
  over the citizen callbacks (`Callback.satisfaction`) recorded in the period,
  per whistle only its latest callback in the period. A department is judged
  on the callbacks of the whistles it leads.

Reopened whistles (重办): a reopening clears the whistle's closing and sends
its tasks back with new deadlines (whistle.services.street._reopen). So a
whistle counts in the resolution rate once, in the period of its latest
closing, with its latest verdict; a reopened task counts in the response rate
once, in the period its latest acknowledgement fell due (the earlier round
stays in its events); a citizen rating twice in one period counts once, by
the later verdict. Merged whistles (并案, `merged_into` set) never count on
their own: their tasks are left out, and they are never closed or called back.
Extensions (延期) move the resolve-by date; every on-time flag was frozen
against the deadline in force, and an approved extension withdraws the
resolution overdue it ends (`resolve_overdue_at` is cleared), so it does not
count among the overdues.

The **score** is the weighted mean of the rates that have data, in per cent:
(w₁ × response + w₂ × resolution + w₃ × satisfaction) ÷ (the sum of the
weights of the rates that have data) × 100, with the district's
EvaluationWeights (default 30/40/30). A rate with a zero denominator is None
(shown "—"), never 0 %. Equal scores (to two decimals) share a rank and the
next rank skips ("1, 1, 3"); a unit without any data has no score and no
rank and is listed after those with data. The previous period is scored with
the current weights, so the change of rank and of score shows performance,
not a change of weights.

The counts behind the rates (`fact_counts`) are three grouped queries, one
per rate, over an indexed time column, by period, department and street: a
department sums its streets, a street its departments. A monthly ranking
reads them from the evaluation tally (escalation.evaluation_tally: the same
counts stored per month, counted again by beat and when old); any other
period counts them directly, the period and the previous one together (a
CASE tells them apart). Either way a ranking costs a fixed handful of
queries whatever the number of units or rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput
from departments.models import Department, Responsibility
from escalation.models import AccountabilityRecord, EvaluationWeights, SupervisionOrder
from escalation.periods import Period
from grids.models import District, Street
from whistle.models import Callback, MeetingAttendance, Rating, Task, Whistle

T = Task.Status
LEAD = Responsibility.Role.LEAD
DEPARTMENT, STREET = "department", "street"
LEVELS = (DEPARTMENT, STREET)
CURRENT, PREVIOUS = 0, 1
# What every count counts: COUNT(1), which an index-only scan answers (COUNT(id) would read each row for its id).
ONE = Value(1)
SATISFIED = (Callback.Satisfaction.SATISFIED, Callback.Satisfaction.BASICALLY_SATISFIED)
# Scores are compared (and shown) to two decimals: equal to the eye is equal in rank.
SCORE_DIGITS = 2
RATE_DIGITS = 4


def level_parse(value: str | None) -> str:
    """department (default) or street; else InvalidInput naming `level`."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return DEPARTMENT
    if value not in LEVELS:
        raise InvalidInput(fields={"level": [_("The level is department or street.")]})
    return value


def period_buckets(column: str, current: Period) -> Case:
    """0 for a moment in the current period, 1 for one in the previous (the query filters both)."""
    return Case(When(**{f"{column}__gte": current.start}, then=Value(CURRENT)), default=Value(PREVIOUS))


# Rates and weights -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A rate as its two counts; no rate (None) when nothing was counted."""

    numerator: int = 0
    denominator: int = 0

    @property
    def rate(self) -> float | None:
        if not self.denominator:
            return None
        return round(self.numerator / self.denominator, RATE_DIGITS)


@dataclass(frozen=True)
class Weights:
    response: int = EvaluationWeights.DEFAULT_RESPONSE
    resolution: int = EvaluationWeights.DEFAULT_RESOLUTION
    satisfaction: int = EvaluationWeights.DEFAULT_SATISFACTION
    is_default: bool = True

    def as_dict(self) -> dict:
        return {"response": self.response, "resolution": self.resolution, "satisfaction": self.satisfaction}


DEFAULT_WEIGHTS = Weights()


def weights_for(district: District) -> Weights:
    """The district's weights, or the defaults (30/40/30) when an administrator has set none."""
    row = EvaluationWeights.objects.filter(district=district).first()
    if row is None:
        return DEFAULT_WEIGHTS
    return Weights(row.response, row.resolution, row.satisfaction, is_default=False)


RATE_NAMES = ("response", "resolution", "satisfaction")


@dataclass(frozen=True)
class Rates:
    response: Ratio = Ratio()
    resolution: Ratio = Ratio()
    satisfaction: Ratio = Ratio()

    @property
    def has_data(self) -> bool:
        return any(getattr(self, name).denominator for name in RATE_NAMES)

    def score(self, weights: Weights) -> float | None:
        """The weighted mean of the rates that have data, 0–100; None without any (or with all their weights 0)."""
        total = weighed = 0.0
        for name in RATE_NAMES:
            ratio, weight = getattr(self, name), getattr(weights, name)
            if ratio.denominator:
                total += weight
                weighed += weight * ratio.numerator / ratio.denominator
        if not total:
            return None
        return round(100 * weighed / total, SCORE_DIGITS)


def formulas(weights: Weights) -> dict[str, str]:
    """The formulas in words, in the active language, as the pages and exports show them."""
    return {
        "response": _(
            "Response rate = tasks acknowledged on time ÷ tasks whose acknowledgement fell due in the period "
            "(a task not acknowledged by its deadline counts as late)."
        ),
        "resolution": _(
            "Resolution rate = whistles judged solved ÷ whistles closed (confirmed by the street) in the period; "
            "judged solved: the citizen's latest callback since the closing says solved, or without a callback "
            "the street's confirmation."
        ),
        "satisfaction": _(
            "Satisfaction rate = (satisfied + basically satisfied) ÷ rated, over each whistle's latest citizen "
            "callback in the period."
        ),
        "score": _(
            "Score = (%(response)d × response rate + %(resolution)d × resolution rate + %(satisfaction)d × "
            "satisfaction rate) ÷ the sum of the weights of the rates that have data × 100; a rate without data "
            "is left out, not counted as 0."
        )
        % weights.as_dict(),
        "rank": _(
            "Equal scores share a rank (1, 1, 3); units without data are listed last, without a rank. "
            "Rank change = previous rank − rank (positive: moved up)."
        ),
    }


# The counts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    pk: int
    code: str
    name: str


def units(*, district: District, level: str) -> list[Unit]:
    """The departments (stations and enterprises included) or the streets of the district, by code."""
    model = Department if level == DEPARTMENT else Street
    rows = model.objects.filter(district=district).order_by("code").values_list("pk", "code", "name")
    return [Unit(*row) for row in rows]


# The facts behind the rates, by period, department and street, as the tally stores them.
FACTS = ("acknowledged_on_time", "acknowledgements_due", "judged_solved", "closed", "satisfied", "rated")
RATIO_OF = {
    "response": ("acknowledged_on_time", "acknowledgements_due"),
    "resolution": ("judged_solved", "closed"),
    "satisfaction": ("satisfied", "rated"),
}
FactKey = tuple[int, int | None, int]  # (bucket, department id, or None for a whistle without a lead; street id)
Facts = dict[FactKey, dict[str, int]]


def _range(column: str, current: Period, previous: Period | None) -> Q:
    if previous is None:
        return Q(**{f"{column}__gte": current.start, f"{column}__lt": current.end})
    # The previous period ends where the current one starts: one range covers both.
    return Q(**{f"{column}__gte": previous.start, f"{column}__lt": current.end})


def _bucket(column: str, current: Period, previous: Period | None):
    return Value(CURRENT) if previous is None else period_buckets(column, current)


def _verdict(whistle: str, closed_at: str):
    """True when the whistle is judged solved: its latest callback since the closing says so, or there is none."""
    latest = (
        Callback.objects.filter(whistle_id=OuterRef(whistle), created_at__gte=OuterRef(closed_at))
        .order_by("-created_at", "-pk")
        .values("solved")[:1]
    )
    return Coalesce(Subquery(latest, output_field=BooleanField()), Value(True))


def lead_department(whistle: str = "whistle_id") -> Subquery:
    """The department leading the whistle: its lead task that was not returned or released (the one that closed it)."""
    lead = (
        Task.objects.filter(whistle_id=OuterRef(whistle), role=LEAD)
        .exclude(status__in=(T.RETURNED, T.RELEASED))
        .order_by("pk")
        .values("department_id")[:1]
    )
    return Subquery(lead, output_field=IntegerField())


def latest_callbacks(*, current: Period, previous: Period | None = None) -> QuerySet[Callback]:
    """The callbacks recorded in the period(s), per whistle and period only the latest one, with its bucket."""
    if previous is None:
        bucket_end = Value(current.end, output_field=DateTimeField())
    else:
        bucket_end = Case(
            When(created_at__gte=current.start, then=Value(current.end)),
            default=Value(current.start),
            output_field=DateTimeField(),
        )
    callbacks = Callback.objects.filter(_range("created_at", current, previous)).annotate(
        bucket=_bucket("created_at", current, previous), bucket_end=bucket_end
    )
    later = Callback.objects.filter(whistle_id=OuterRef("whistle_id"), created_at__lt=OuterRef("bucket_end")).filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return callbacks.filter(~Exists(later))


def fact_counts(*, district: District, current: Period, previous: Period | None = None, now: datetime) -> Facts:
    """The counts behind the three rates in the district, by period, department and street: three grouped queries.

    (bucket, department, street) → acknowledged_on_time and acknowledgements_due
    (the task's department and its whistle's street), judged_solved and closed,
    satisfied and rated (the whistle's lead department, None without one, and
    its street). `previous` adds the previous period as bucket 1.
    """
    facts: Facts = defaultdict(lambda: dict.fromkeys(FACTS, 0))
    unanswered_due = Q(acknowledged_on_time__isnull=True, acknowledge_due_at__lte=now)
    # Left before its deadline without acknowledging: not the department's to acknowledge any more.
    left_in_time = Q(status=T.RETURNED, returned_at__lte=F("acknowledge_due_at")) | Q(
        status=T.RELEASED, updated_at__lte=F("acknowledge_due_at")
    )
    tasks = (
        Task.objects.filter(
            _range("acknowledge_due_at", current, previous),
            whistle__street__district=district,
            whistle__merged_into__isnull=True,
        )
        .annotate(bucket=_bucket("acknowledge_due_at", current, previous))
        .order_by()
        .values_list("bucket", "department_id", "whistle__street_id")
        .annotate(
            n=Count(ONE, filter=Q(acknowledged_on_time=True)),
            d=Count(ONE, filter=Q(acknowledged_on_time__isnull=False) | (unanswered_due & ~left_in_time)),
        )
    )
    for bucket, department, street, n, d in tasks:
        facts[bucket, department, street].update(acknowledged_on_time=n, acknowledgements_due=d)
    closed = (
        Whistle.objects.filter(
            _range("closed_at", current, previous), street__district=district, merged_into__isnull=True
        )
        .annotate(
            bucket=_bucket("closed_at", current, previous),
            lead=lead_department("pk"),
            solved=_verdict("pk", "closed_at"),
        )
        .order_by()
        .values_list("bucket", "lead", "street_id")
        .annotate(n=Count(ONE, filter=Q(solved=True)), d=Count(ONE))
    )
    for bucket, department, street, n, d in closed:
        facts[bucket, department, street].update(judged_solved=n, closed=d)
    rated = (
        latest_callbacks(current=current, previous=previous)
        .filter(whistle__street__district=district)
        .annotate(lead=lead_department())
        .order_by()
        .values_list("bucket", "lead", "whistle__street_id")
        .annotate(n=Count(ONE, filter=Q(satisfaction__in=SATISFIED)), d=Count(ONE))
    )
    for bucket, department, street, n, d in rated:
        facts[bucket, department, street].update(satisfied=n, rated=d)
    return dict(facts)


def rates_by_unit(*, level: str, facts: Facts) -> dict[tuple[int, int], Rates]:
    """(unit, bucket) → Rates, summed from the facts: a department over its streets, a street over its departments."""
    sums: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(FACTS, 0))
    for (bucket, department, street), counts in facts.items():
        unit = department if level == DEPARTMENT else street
        if unit is None:
            continue  # a whistle without a lead department counts for its street only
        total = sums[unit, bucket]
        for name, value in counts.items():
            total[name] += value
    return {
        key: Rates(**{rate: Ratio(total[num], total[den]) for rate, (num, den) in RATIO_OF.items()})
        for key, total in sums.items()
    }


# Rankings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankRow:
    unit: Unit
    rates: Rates
    score: float | None
    rank: int | None
    previous_rates: Rates
    previous_score: float | None
    previous_rank: int | None

    @property
    def rank_change(self) -> int | None:
        """Places moved up (positive) or down (negative) since the previous period; None without both ranks."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, SCORE_DIGITS)


@dataclass(frozen=True)
class Ranking:
    level: str
    period: Period
    previous: Period
    weights: Weights
    counted_at: datetime  # when the counts were made (the tally's time, or now)
    rows: list[RankRow] = field(default_factory=list)

    @property
    def formulas(self) -> dict[str, str]:
        return formulas(self.weights)


def competition_ranks(scores: dict[int, float | None]) -> dict[int, int | None]:
    """Standard competition ranking: equal scores share a rank and the next rank skips (1, 1, 3); None unranked."""
    ordered = sorted((score for score in scores.values() if score is not None), reverse=True)
    first_place: dict[float, int] = {}
    for place, score in enumerate(ordered, start=1):
        first_place.setdefault(score, place)
    return {key: (None if score is None else first_place[score]) for key, score in scores.items()}


def ranking(
    *, district: District, period: Period, level: str, now: datetime | None = None, tallied: bool | None = None
) -> Ranking:
    """The three rates, score and rank of every department (or street) of the district, with the previous period's.

    A month is read from the evaluation tally (escalation.evaluation_tally),
    counted again first when older than EVALUATION_TALLY_MAX_AGE_S: four
    queries when it is fresh (weights, units, the tally's stamps and rows).
    Any other period — or `tallied=False` — is counted directly: five queries
    (weights, units, one grouped query per rate).
    """
    now = now or timezone.now()
    previous = period.previous()
    weights = weights_for(district)
    all_units = units(district=district, level=level)
    if period.is_month if tallied is None else tallied:
        from escalation.evaluation_tally import tallied_facts

        facts, counted_at = tallied_facts(district=district, current=period, previous=previous, now=now)
    else:
        facts, counted_at = fact_counts(district=district, current=period, previous=previous, now=now), now
    found = rates_by_unit(level=level, facts=facts)
    rates = {(u.pk, bucket): found.get((u.pk, bucket), Rates()) for u in all_units for bucket in (CURRENT, PREVIOUS)}
    scores = {key: value.score(weights) for key, value in rates.items()}
    ranks = {
        bucket: competition_ranks({u.pk: scores[u.pk, bucket] for u in all_units}) for bucket in (CURRENT, PREVIOUS)
    }
    rows = [
        RankRow(
            unit=u,
            rates=rates[u.pk, CURRENT],
            score=scores[u.pk, CURRENT],
            rank=ranks[CURRENT][u.pk],
            previous_rates=rates[u.pk, PREVIOUS],
            previous_score=scores[u.pk, PREVIOUS],
            previous_rank=ranks[PREVIOUS][u.pk],
        )
        for u in all_units
    ]
    # Ranked first, best first; then the units without data, by code.
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.unit.code))
    return Ranking(level=level, period=period, previous=previous, weights=weights, counted_at=counted_at, rows=rows)


# Bottom-up ratings and the side figures ----------------------------------------------------


@dataclass(frozen=True)
class DepartmentFigures:
    """One department's ratings by the streets (下对上) and what else counts against it, in one period."""

    unit: Unit
    ratings: int = 0
    response: float | None = None  # average score, 1–5
    attitude: float | None = None
    result: float | None = None
    meeting_absences: int = 0
    overdue_acknowledge: int = 0
    overdue_checkin: int = 0
    overdue_resolve: int = 0
    returns: int = 0
    closed_on_time: Ratio = Ratio()
    supervision_orders: int = 0
    accountability_records: int = 0

    @property
    def overall(self) -> float | None:
        """The mean of the three averages (every rating gives all three)."""
        if not self.ratings:
            return None
        return round((self.response + self.attitude + self.result) / 3, 2)

    @property
    def overdue(self) -> int:
        return self.overdue_acknowledge + self.overdue_checkin + self.overdue_resolve


def _not_merged_tasks(tasks: QuerySet[Task]) -> QuerySet[Task]:
    # Merged whistles are few and indexed (merged_into's foreign-key index): an anti-join, no join per task.
    return tasks.exclude(whistle_id__in=Whistle.objects.filter(merged_into__isnull=False).values("pk"))


def _in(column: str, period: Period) -> Q:
    return Q(**{f"{column}__gte": period.start, f"{column}__lt": period.end})


def department_figures(*, district: District, period: Period) -> list[DepartmentFigures]:
    """Every department of the district with its ratings and side figures in the period, by code.

    - ratings: the streets' ratings made in the period, averaged per count (1–5);
    - meeting absences: absent at a joint meeting held in the period;
    - overdue: stage deadlines missed in the period (the sweep's `*_overdue_at`), per stage;
    - returns: tasks returned (退回) in the period;
    - closed on time: of the tasks closed in the period, those closed by their resolve-by date
      (as moved by approved extensions);
    - supervision orders issued and accountability records made in the period.

    A task started again (reopened, or summoned again after a return) keeps
    its latest round's ladder marks and closing only, and its latest return.
    Seven queries whatever the number of departments.
    """
    all_units = units(district=district, level=DEPARTMENT)
    ids = [u.pk for u in all_units]
    figures: dict[int, dict] = {u.pk: {} for u in all_units}

    for row in (
        Rating.objects.filter(_in("created_at", period), department_id__in=ids)
        .order_by()
        .values("department_id")
        .annotate(n=Count(ONE), response=Avg("response"), attitude=Avg("attitude"), result=Avg("result"))
    ):
        figures[row["department_id"]].update(
            ratings=row["n"], **{name: round(float(row[name]), 2) for name in ("response", "attitude", "result")}
        )
    for row in (
        MeetingAttendance.objects.filter(
            _in("meeting__held_at", period), department_id__in=ids, status=MeetingAttendance.Status.ABSENT
        )
        .order_by()
        .values("department_id")
        .annotate(n=Count(ONE))
    ):
        figures[row["department_id"]]["meeting_absences"] = row["n"]
    # The overdues and returns are few and each column is indexed over its set rows: one query for the four.
    marks = {
        "overdue_acknowledge": "acknowledge_overdue_at",
        "overdue_checkin": "checkin_overdue_at",
        "overdue_resolve": "resolve_overdue_at",
        "returns": "returned_at",
    }
    any_mark = Q()
    for column in marks.values():
        any_mark |= _in(column, period)
    for row in (
        _not_merged_tasks(Task.objects.filter(any_mark, department_id__in=ids))
        .order_by()
        .values("department_id")
        .annotate(**{name: Count(ONE, filter=_in(column, period)) for name, column in marks.items()})
    ):
        figures[row["department_id"]].update({name: row[name] for name in marks})
    # Closings are as many as tasks: their own query, on their own index.
    for department, closed, on_time in (
        _not_merged_tasks(Task.objects.filter(_in("closed_at", period), status=T.CLOSED, department_id__in=ids))
        .order_by()
        .values_list("department_id")
        .annotate(closed=Count(ONE), on_time=Count(ONE, filter=Q(closed_on_time=True)))
    ):
        figures[department]["closed_on_time"] = Ratio(on_time, closed)
    for row in (
        SupervisionOrder.objects.filter(_in("created_at", period), task__department_id__in=ids)
        .order_by()
        .values("task__department_id")
        .annotate(n=Count(ONE))
    ):
        figures[row["task__department_id"]]["supervision_orders"] = row["n"]
    for row in (
        AccountabilityRecord.objects.filter(_in("created_at", period), department_id__in=ids)
        .order_by()
        .values("department_id")
        .annotate(n=Count(ONE))
    ):
        figures[row["department_id"]]["accountability_records"] = row["n"]
    return [DepartmentFigures(unit=u, **figures[u.pk]) for u in all_units]

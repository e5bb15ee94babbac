"""Whistle statistics: counts by unit, category, source, grade and time; whistle rates; high-frequency problems; grid workers.

Which whistles count: those blown in the period — submitted
(`Whistle.submitted_at`, local time; a draft in the party-building office's
approval chain counts from its approval, as the supervisor's daily trend
counts it) — that are not merged duplicates (`merged_into` set: counted
once, as the whistle they were merged into). Every count is one grouped query
over the submission time, grouped by ids and named afterwards; days, weeks
(Monday first) and months are cut in local time.

**Whistle rate** (吹哨率) of a street: its whistles per 10,000 residents when
its population is known (`Street.population`), else per grid. Each street is
compared with the district median of the streets on the same basis: below
LOW_SHARE of the median is "too low" (a street that never whistles is as
suspicious as one that whistles at everything), above HIGH_MULTIPLE of it
"too high"; no flags when the median is 0.

**High-frequency problems** (高频问题): category × street (or × community)
combinations by their whistles in the period, the most first, with the count
of the previous period (the month before, or as many days before); rising
when the count grew. Supervisors adopt one as a problem of the month
(escalation.topics.problem_topic_adopt) and follow its count month by month
(`topic_trends`).

**Grid workers** (网格员): every grid worker of the district (a member in the
grid-worker role of one of its streets, or a GridWorker with grids in it)
and their reports — whistles with source grid_worker they raised:
- reports: submitted in the period (merged duplicates included: they were reported);
- became whistles: of those, the ones dispatched to departments (`routed_at`
  set) and not merged; a report still waiting for the dispatcher has not
  (yet). Every report the platform knows of is a whistle: problems a grid
  worker settled on the spot without reporting them are not recorded, so the
  share is over what was reported;
- timely: of their whistles closed in the period, those whose every department
  closed its task by its resolve-by date (the frozen `Task.closed_on_time`,
  against the deadline as moved by approved extensions) — the on-time closing
  rate (按期结案率). No record tells when a grid worker first saw a problem, so
  the time from seeing to reporting cannot be measured.
"""

import statistics as stats
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, DateField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput
from departments.models import Category, Grade, Membership
from escalation.evaluation import ONE, Ratio, Unit, period_buckets
from escalation.models import ProblemTopic
from escalation.periods import Period
from grids.models import Community, District, Grid, GridWorker, Street
from whistle.models import Task, Whistle

BY = ("street", "community", "grid", "category", "source", "grade", "day", "week", "month")
AREAS = ("street", "community")
PER_RESIDENTS = 10_000
# A street's whistle rate against the district median of its basis (residents or grids).
LOW_SHARE = 0.5  # below half the median: too low
HIGH_MULTIPLE = 2.0  # above double the median: too high
TOO_LOW, TOO_HIGH = "too_low", "too_high"
HIGH_FREQUENCY_LIMIT = 20
HIGH_FREQUENCY_MAX = 200
# How many months before a topic's own month its trend shows, and the longest trend.
TREND_BEFORE = 2
TREND_MAX_MONTHS = 24


def by_parse(value: str | None) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return "street"
    if value not in BY:
        raise InvalidInput(
            fields={"by": [_("Count by one of: %(choices)s.") % {"choices": ", ".join(BY)}]},
        )
    return value


def area_parse(value: str | None) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return "street"
    if value not in AREAS:
        raise InvalidInput(fields={"area": [_("The area is street or community.")]})
    return value


def whistles_raised(*, district: District, start, end) -> QuerySet[Whistle]:
    """The district's whistles submitted in [start, end) that count: not merged."""
    return Whistle.objects.filter(
        street__district=district, submitted_at__gte=start, submitted_at__lt=end, merged_into__isnull=True
    )


def _local_trunc(kind: str) -> Trunc:
    return Trunc("submitted_at", kind, output_field=DateField(), tzinfo=timezone.get_default_timezone())


# Counts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    key: str | None  # a code, a choice value or an ISO date; None: not located in a community or grid
    name: str
    street: str = ""  # the street's code, for communities and grids
    count: int = 0


NAMED = {
    "category": (Category, "code", "name", None),
    "community": (Community, "code", "name", "street__code"),
    "grid": (Grid, "code", "name", "community__street__code"),
}


def _names(by: str, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """id → (code, name, street code) of the categories, communities or grids counted."""
    model, code, name, street = NAMED[by]
    fields = [code, name, street] if street else [code, name]
    return {
        pk: (row[0], row[1], row[2] if street else "")
        for pk, *row in model.objects.filter(pk__in=ids).values_list("pk", *fields)
    }


def whistle_counts(*, district: District, period: Period, by: str) -> list[CountRow]:
    """The whistles of the period counted by `by` (one of BY); two queries at most.

    Streets, sources and grades are listed in full (with 0s), days, weeks and
    months over the whole period; communities, grids and categories only where
    there were whistles, the most first.
    """
    whistles = whistles_raised(district=district, start=period.start, end=period.end).order_by()
    if by == "street":
        counted = dict(whistles.values_list("street_id").annotate(n=Count(ONE)))
        streets = Street.objects.filter(district=district).order_by("code").values_list("pk", "code", "name")
        return [CountRow(code, name, count=counted.get(pk, 0)) for pk, code, name in streets]
    if by in ("community", "grid", "category"):
        # Grouped by id (a hash of integers), named afterwards: grouping by names sorts text on disk.
        counted = dict(whistles.values_list(f"{by}_id").annotate(n=Count(ONE)))
        names = _names(by, [pk for pk in counted if pk is not None])
        found = [CountRow(*names.get(pk, (None, _("not located"), "")), count=n) for pk, n in counted.items()]
        return sorted(found, key=lambda row: (-row.count, row.key is None, row.key or ""))
    if by in ("source", "grade"):
        choices = Whistle.Source.choices if by == "source" else Grade.choices
        counted = dict(whistles.values_list(by).annotate(n=Count(ONE)))
        return [CountRow(value, str(label), count=counted.get(value, 0)) for value, label in choices]
    counted = dict(whistles.annotate(bucket=_local_trunc(by)).values_list("bucket").annotate(n=Count(ONE)))
    return [
        CountRow(
            f"{day:%Y-%m}" if by == "month" else day.isoformat(), _bucket_label(by, day), count=counted.get(day, 0)
        )
        for day in _buckets_of(by, period)
    ]


def _buckets_of(by: str, period: Period) -> list[date]:
    """Every day, week (its Monday) or month (its first day) that overlaps the period."""
    if by == "day":
        first, step = period.first, None
    elif by == "week":
        first, step = period.first - timedelta(days=period.first.weekday()), None
    else:
        first, step = period.first.replace(day=1), "month"
    found, day = [], first
    while day <= period.last:
        found.append(day)
        if step == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=1 if by == "day" else 7)
    return found


def _bucket_label(by: str, day: date) -> str:
    if by == "month":
        return f"{day:%Y-%m}"
    if by == "week":
        return _("week of %(date)s") % {"date": day.isoformat()}
    return day.isoformat()


@dataclass(frozen=True)
class HeatMap:
    """Whistles of the period per category (rows) and street (columns): the heat map of the statistics page."""

    categories: list[Unit]
    streets: list[Unit]
    counts: dict[tuple[int, int], int]  # (category id, street id) → whistles; absent: none

    def cells(self) -> list[list[int]]:
        """[street index, category index, count] for every combination with whistles (ECharts' heatmap data)."""
        rows = {c.pk: i for i, c in enumerate(self.categories)}
        columns = {s.pk: i for i, s in enumerate(self.streets)}
        return [[columns[street], rows[category], n] for (category, street), n in self.counts.items()]


def category_street_counts(*, district: District, period: Period) -> HeatMap:
    """The whistles of the period by category and street: three queries (the counts, then both names).

    Every street of the district is a column; only categories with whistles are rows, the most first.
    """
    counts = {
        (category, street): n
        for category, street, n in whistles_raised(district=district, start=period.start, end=period.end)
        .order_by()
        .values_list("category_id", "street_id")
        .annotate(n=Count(ONE))
    }
    totals: dict[int, int] = defaultdict(int)
    for (category, _street), n in counts.items():
        totals[category] += n
    names = {
        pk: Unit(pk, code, name)
        for pk, code, name in Category.objects.filter(pk__in=list(totals)).values_list("pk", "code", "name")
    }
    categories = sorted(names.values(), key=lambda unit: (-totals[unit.pk], unit.code))
    streets = [
        Unit(*row)
        for row in Street.objects.filter(district=district).order_by("code").values_list("pk", "code", "name")
    ]
    return HeatMap(categories, streets, counts)


# Whistle rates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StreetRate:
    unit: Unit
    whistles: int
    population: int | None
    grids: int
    basis: str  # "residents" (per 10,000), "grid" (per grid) or "" (neither known)
    rate: float | None
    median: float | None  # the district median of the streets on the same basis
    flag: str  # TOO_LOW, TOO_HIGH or ""


RESIDENTS, GRID = "residents", "grid"


def street_whistle_rates(*, district: District, period: Period) -> list[StreetRate]:
    """Each street's whistles in the period, per 10,000 residents (else per grid), flagged against the median.

    Two queries: the streets with their grids, and the counts.
    """
    counted = dict(
        whistles_raised(district=district, start=period.start, end=period.end)
        .order_by()
        .values_list("street_id")
        .annotate(n=Count(ONE))
    )
    streets = (
        Street.objects.filter(district=district)
        .annotate(grid_count=Count("communities__grids"))
        .order_by("code")
        .values_list("pk", "code", "name", "population", "grid_count")
    )
    partial = []
    for pk, code, name, population, grids in streets:
        whistles = counted.get(pk, 0)
        if population:
            basis, rate = RESIDENTS, round(whistles * PER_RESIDENTS / population, 2)
        elif grids:
            basis, rate = GRID, round(whistles / grids, 2)
        else:
            basis, rate = "", None
        partial.append((Unit(pk, code, name), whistles, population, grids, basis, rate))
    medians = {
        basis: stats.median(rates)
        for basis in (RESIDENTS, GRID)
        if (rates := [row[5] for row in partial if row[4] == basis])
    }
    return [
        StreetRate(unit, whistles, population, grids, basis, rate, medians.get(basis), _flag(rate, medians.get(basis)))
        for unit, whistles, population, grids, basis, rate in partial
    ]


def _flag(rate: float | None, median: float | None) -> str:
    if rate is None or not median:
        return ""
    if rate < median * LOW_SHARE:
        return TOO_LOW
    if rate > median * HIGH_MULTIPLE:
        return TOO_HIGH
    return ""


# High-frequency problems -------------------------------------------------------------------


@dataclass(frozen=True)
class HighFrequencyRow:
    category: Unit
    street: Unit
    community: Unit | None  # set when counted by community
    count: int
    previous: int
    topic: int | None  # the problem of the month adopted from this row, if any

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def rising(self) -> bool:
        return self.count > self.previous


def high_frequency(
    *, district: District, period: Period, area: str = "street", limit: int = HIGH_FREQUENCY_LIMIT, rising_only=False
) -> list[HighFrequencyRow]:
    """The category × area combinations with the most whistles in the period, with the previous period's count.

    Sorted by count, then by growth; `rising_only` keeps those that grew.
    A handful of queries whatever the number of whistles: the counts of both
    periods grouped by ids, the topics adopted (for a month) from these rows,
    and the names of the categories, streets (and communities) counted.
    """
    previous = period.previous()
    whistles = whistles_raised(district=district, start=previous.start, end=period.end).order_by()
    keys = ["category_id", "street_id"]
    if area == "community":
        whistles = whistles.filter(community__isnull=False)
        keys.append("community_id")
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    # Grouped by ids (integers hash fast), named from the small tables afterwards.
    for *key, bucket, n in (
        whistles.annotate(bucket=period_buckets("submitted_at", period))
        .values_list(*keys, "bucket")
        .annotate(n=Count(ONE))
    ):
        counts[tuple(key)][bucket] += n
    adopted = _adopted_topics(district=district, period=period, area=area)
    units = _units_of(counts, area=area)
    rows = []
    for key, (count, before) in counts.items():
        if not count or (rising_only and count <= before):
            continue
        category, street = units["category"][key[0]], units["street"][key[1]]
        community = units["community"][key[2]] if area == "community" else None
        topic = adopted.get((category.pk, street.pk, community.pk if community else None))
        rows.append(HighFrequencyRow(category, street, community, count, before, topic))
    rows.sort(
        key=lambda row: (
            -row.count,
            -row.change,
            row.category.code,
            row.street.code,
            row.community and row.community.code,
        )
    )
    return rows[:limit]


def _units_of(counts: dict[tuple, list[int]], *, area: str) -> dict[str, dict[int, Unit]]:
    """The categories, streets (and communities) of the counted keys, by id: one query each."""
    models = {"category": Category, "street": Street, "community": Community}
    units = {}
    for index, name in enumerate(("category", "street", "community")):
        if name == "community" and area != "community":
            continue
        ids = {key[index] for key in counts}
        units[name] = {
            pk: Unit(pk, code, title)
            for pk, code, title in models[name].objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    return units


def _adopted_topics(*, district: District, period: Period, area: str) -> dict[tuple, int]:
    if not period.is_month:
        return {}
    topics = ProblemTopic.objects.filter(district=district, period=period.first, street__isnull=False)
    topics = topics.filter(community__isnull=area == "street")
    return {
        (category, street, community): pk
        for pk, category, street, community in topics.values_list("pk", "category_id", "street_id", "community_id")
    }


# Problems of the month ---------------------------------------------------------------------


def topic_whistles(topic: ProblemTopic, *, period: Period) -> QuerySet[Whistle]:
    """The whistles of the topic's category and area raised in the period (those a topic links for its month)."""
    whistles = whistles_raised(district=topic.district, start=period.start, end=period.end).filter(
        category_id=topic.category_id
    )
    if topic.community_id:
        return whistles.filter(community_id=topic.community_id)
    if topic.street_id:
        return whistles.filter(street_id=topic.street_id)
    return whistles


@dataclass(frozen=True)
class TrendPoint:
    month: str  # YYYY-MM
    count: int


def topic_trends(
    topics: list[ProblemTopic], *, until: Period, before: int = TREND_BEFORE
) -> dict[int, list[TrendPoint]]:
    """Each topic's whistles month by month, from `before` months ahead of its own month to the `until` month.

    One query for any number of topics (of one district): counts by category,
    street, community and month, summed per topic's area.
    """
    if not topics:
        return {}
    district = topics[0].district
    last = until.last if until.is_month else Period.month(until.last.year, until.last.month).last
    first = min(_months_back(topic.period, before) for topic in topics)
    first = max(first, _months_back(last.replace(day=1), TREND_MAX_MONTHS - 1))
    start, end = Period(first, last).start, Period(first, last).end
    counts = (
        whistles_raised(district=district, start=start, end=end)
        .filter(category_id__in={topic.category_id for topic in topics})
        .order_by()
        .annotate(month=_local_trunc("month"))
        .values_list("category_id", "street_id", "community_id", "month")
        .annotate(n=Count(ONE))
    )
    by_topic: dict[int, dict[date, int]] = {topic.pk: defaultdict(int) for topic in topics}
    for category, street, community, month, n in counts:
        for topic in topics:
            if topic.category_id == category and _in_area(topic, street, community):
                by_topic[topic.pk][month] += n
    trends = {}
    for topic in topics:
        months = _month_starts(max(_months_back(topic.period, before), first), last)
        trends[topic.pk] = [TrendPoint(f"{month:%Y-%m}", by_topic[topic.pk].get(month, 0)) for month in months]
    return trends


def _in_area(topic: ProblemTopic, street: int, community: int | None) -> bool:
    if topic.community_id:
        return community == topic.community_id
    return not topic.street_id or street == topic.street_id


def _months_back(month: date, count: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 - count, 12)
    return date(year, index + 1, 1)


def _month_starts(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


# Grid workers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridWorkerRow:
    user_id: int
    username: str
    name: str
    street: Unit | None
    employment: str  # GridWorker.Employment value, "" without a grid-worker record
    kind: str
    grids: int
    reports: int = 0
    became_whistles: int = 0
    merged: int = 0
    closed: Ratio = field(default_factory=Ratio)  # closed on time ÷ closed in the period

    @property
    def became_share(self) -> float | None:
        return Ratio(self.became_whistles, self.reports).rate


def grid_workers(*, district: District, period: Period) -> list[GridWorkerRow]:
    """Every grid worker of the district with their reports in the period, the most reports first.

    Three queries (four when someone no longer a grid worker of the district
    reported): the grid workers, their reports raised in the period, and
    their whistles closed in the period.
    """
    User = get_user_model()
    in_district = Q(membership__role=Membership.Role.GRID_WORKER, membership__street__district=district) | Q(
        grid_worker__grids__community__street__district=district
    )
    people = {
        user.pk: user
        for user in User.objects.filter(in_district)
        .annotate(grid_count=Count("grid_worker__grids", distinct=True))
        .select_related("membership__street", "grid_worker")
        .order_by("username")
    }
    reports = Whistle.objects.filter(source=Whistle.Source.GRID_WORKER, street__district=district).order_by()
    raised = {
        row["reporter_id"]: row
        for row in reports.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .values("reporter_id")
        .annotate(
            reports=Count(ONE),
            became=Count(ONE, filter=Q(routed_at__isnull=False, merged_into__isnull=True)),
            merged=Count(ONE, filter=Q(merged_into__isnull=False)),
        )
    }
    late = Task.objects.filter(whistle_id=OuterRef("pk"), status=Task.Status.CLOSED, closed_on_time=False)
    closed = {
        row["reporter_id"]: row
        for row in reports.filter(closed_at__gte=period.start, closed_at__lt=period.end)
        .annotate(late=Exists(late))
        .values("reporter_id")
        .annotate(closed=Count(ONE), timely=Count(ONE, filter=Q(late=False)))
    }
    others = (raised.keys() | closed.keys()) - people.keys()
    if others:  # reported as grid workers, but are no grid workers of the district any more
        people.update({user.pk: user for user in User.objects.filter(pk__in=others).annotate(grid_count=Value(0))})
    rows = [
        _worker_row(user, {**raised.get(user_id, {}), **closed.get(user_id, {})}, current=user_id not in others)
        for user_id, user in people.items()
    ]
    rows.sort(key=lambda row: (-row.reports, row.username))
    return rows


def _worker_row(user, counts: dict, *, current: bool) -> GridWorkerRow:
    membership = getattr(user, "membership", None) if current else None
    street = membership.street if membership is not None else None
    worker = _grid_worker(user) if current else None
    return GridWorkerRow(
        user_id=user.pk,
        username=user.get_username(),
        name=user.get_full_name() or user.get_username(),
        street=Unit(street.pk, street.code, street.name) if street else None,
        employment=worker.employment if worker else "",
        kind=worker.kind if worker else "",
        grids=user.grid_count,
        reports=counts.get("reports", 0),
        became_whistles=counts.get("became", 0),
        merged=counts.get("merged", 0),
        closed=Ratio(counts.get("timely", 0), counts.get("closed", 0)),
    )


def _grid_worker(user) -> GridWorker | None:
    try:
        return user.grid_worker
    except GridWorker.DoesNotExist:
        return None

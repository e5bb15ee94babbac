"""Whistle counts, whistle rates with median flags, high-frequency problems and grid workers (escalation.statistics)."""

import pytest

from escalation.evaluation import Period, Ratio
from escalation.statistics import (
    GRID,
    RESIDENTS,
    TOO_HIGH,
    TOO_LOW,
    grid_workers,
    high_frequency,
    street_whistle_rates,
    whistle_counts,
)
from grids.models import GridWorker
from tests.escalation.evaluation.facts import at, task, whistle
from tests.factories import StreetFactory
from whistle.models import Whistle

MARCH = Period.month(2026, 3)


def counts(cast, by, period=MARCH):
    return [(row.key, row.count) for row in whistle_counts(district=cast.district, period=period, by=by)]


@pytest.fixture
def march(cast):
    """Six whistles of March (one of them at 00:30 local on 1 March), and some that do not count."""
    whistle(cast, created="2026-03-01 00:30", grid=cast.grids.g1)  # 28 February 16:30 UTC
    whistle(cast, created="2026-03-02 09:00", grid=cast.grids.g1, grade="priority")
    whistle(cast, created="2026-03-09 09:00", grid=cast.grids.g2, source=Whistle.Source.HOTLINE)
    whistle(
        cast, created="2026-03-09 10:00", category=cast.order, source=Whistle.Source.GRID_WORKER, reporter=cast.s01_grid
    )
    whistle(cast, street=cast.s02, created="2026-03-20 09:00", category=cast.order, grid=cast.grids.g3)
    whistle(cast, street=cast.s02, created="2026-03-31 23:59", category=cast.order, community=None)
    kept = whistle(cast, created="2026-02-28 23:59")  # February (local)
    whistle(cast, created="2026-03-10 09:00", status=Whistle.Status.MERGED, merged_into=kept)
    whistle(cast, created="2026-03-10 09:00", status=Whistle.Status.DRAFT, submitted_at=None, routed_at=None)
    whistle(cast, created="2026-04-01 00:00")


def test_whistles_are_counted_by_unit_with_every_street_listed(cast, march):
    assert counts(cast, "street") == [("S01", 4), ("S02", 2)]
    assert counts(cast, "community") == [("S01C01", 4), ("S02C01", 1), (None, 1)]
    assert counts(cast, "grid") == [("S01C01G01", 2), (None, 2), ("S01C01G02", 1), ("S02C01G01", 1)]
    rows = whistle_counts(district=cast.district, period=MARCH, by="community")
    assert rows[-1].name == "not located" and rows[0].street == "S01"


def test_whistles_are_counted_by_category_source_and_grade_with_every_choice_listed(cast, march):
    assert counts(cast, "category") == [("ENV-COMPOUND", 3), ("ORDER-PUBLIC", 3)]
    assert counts(cast, "source") == [("street", 4), ("party_office", 0), ("hotline", 1), ("grid_worker", 1)]
    assert counts(cast, "grade") == [("ordinary", 5), ("priority", 1), ("difficult", 0)]


def test_whistles_are_counted_by_local_day_week_and_month(cast, march):
    days = dict(counts(cast, "day"))
    assert len(days) == 31 and sum(days.values()) == 6
    assert (days["2026-03-01"], days["2026-03-09"], days["2026-03-31"], days["2026-03-03"]) == (1, 2, 1, 0)
    # 1 March 2026 is a Sunday: its week starts on Monday 23 February.
    assert counts(cast, "week") == [
        ("2026-02-23", 1),
        ("2026-03-02", 1),
        ("2026-03-09", 2),
        ("2026-03-16", 1),
        ("2026-03-23", 0),
        ("2026-03-30", 1),
    ]
    quarter = Period(at("2026-01-01 00:00").date(), at("2026-03-31 00:00").date())
    assert counts(cast, "month", quarter) == [("2026-01", 0), ("2026-02", 1), ("2026-03", 6)]


def test_the_whistle_rate_is_per_10000_residents_else_per_grid_flagged_against_the_median(cast):
    cast.s01.population = 10_000
    cast.s01.save()
    busy = StreetFactory(district=cast.district, code="S03", population=10_000)
    middling = StreetFactory(district=cast.district, code="S04", population=10_000)
    StreetFactory(district=cast.district, code="S05")  # neither population nor grids
    for street, n in ((busy, 5), (middling, 2), (cast.s02, 3)):
        for _ in range(n):
            whistle(cast, street=street, community=None)

    rates = {row.unit.code: row for row in street_whistle_rates(district=cast.district, period=MARCH)}

    # Per 10,000 residents: S01 0, S03 5, S04 2; median 2: below 1 is too low, above 4 too high.
    assert [(rates[c].basis, rates[c].rate, rates[c].median, rates[c].flag) for c in ("S01", "S03", "S04")] == [
        (RESIDENTS, 0.0, 2.0, TOO_LOW),
        (RESIDENTS, 5.0, 2.0, TOO_HIGH),
        (RESIDENTS, 2.0, 2.0, ""),
    ]
    # S02 has no population: 3 whistles over its one grid, the only street on that basis.
    assert (rates["S02"].basis, rates["S02"].rate, rates["S02"].grids, rates["S02"].flag) == (GRID, 3.0, 1, "")
    assert (rates["S05"].basis, rates["S05"].rate, rates["S05"].flag) == ("", None, "")


def test_no_flags_against_a_median_of_zero(cast):
    rates = street_whistle_rates(district=cast.district, period=MARCH)

    assert [(row.rate, row.median, row.flag) for row in rates] == [(0.0, 0.0, ""), (0.0, 0.0, "")]


def test_high_frequency_problems_with_the_previous_periods_count_and_the_trend(cast):
    for created, street, category, n in (
        ("2026-03-05 10:00", cast.s01, cast.compound, 3),
        ("2026-03-05 10:00", cast.s01, cast.order, 1),
        ("2026-03-05 10:00", cast.s02, cast.order, 2),
        ("2026-02-05 10:00", cast.s01, cast.compound, 4),
        ("2026-02-05 10:00", cast.s02, cast.order, 1),
        ("2026-02-05 10:00", cast.s02, cast.compound, 2),  # February only: not a March problem
    ):
        for _ in range(n):
            whistle(cast, street=street, category=category, created=created)

    rows = high_frequency(district=cast.district, period=MARCH)

    assert [(r.category.code, r.street.code, r.count, r.previous, r.change, r.rising) for r in rows] == [
        ("ENV-COMPOUND", "S01", 3, 4, -1, False),
        ("ORDER-PUBLIC", "S02", 2, 1, 1, True),
        ("ORDER-PUBLIC", "S01", 1, 0, 1, True),
    ]
    rising = high_frequency(district=cast.district, period=MARCH, rising_only=True, limit=1)
    assert [(r.category.code, r.street.code) for r in rising] == [("ORDER-PUBLIC", "S02")]
    communities = high_frequency(district=cast.district, period=MARCH, area="community")
    assert [(r.community.code, r.count) for r in communities] == [("S01C01", 3), ("S02C01", 2), ("S01C01", 1)]


def test_grid_workers_reports_the_share_that_became_whistles_and_timeliness(cast):
    s02_worker = GridWorker.objects.create(user=cast.s02_grid, employment="part_time", kind="service")
    s02_worker.grids.set([cast.grids.g3])
    grid = {"source": Whistle.Source.GRID_WORKER, "reporter": cast.s01_grid}
    dispatched = whistle(cast, created="2026-03-03 10:00", **grid)
    whistle(cast, created="2026-03-04 10:00", status=Whistle.Status.MERGED, merged_into=dispatched, **grid)
    whistle(cast, created="2026-03-05 10:00", status=Whistle.Status.AWAITING_DISPATCH, routed_at=None, **grid)
    for closed, on_time in (("2026-03-10 10:00", True), ("2026-03-11 10:00", False)):
        done = whistle(cast, created="2026-02-20 10:00", status="closed", closed_at=at(closed), **grid)
        task(
            done,
            cast.d13,
            due="2026-02-20 12:00",
            acknowledged="2026-02-20 11:00",
            status="closed",
            closed_on_time=True,
        )
        task(done, cast.d12, due="2026-02-20 12:00", role="co_operating", status="closed", closed_on_time=on_time)

    rows = {row.username: row for row in grid_workers(district=cast.district, period=MARCH)}

    s01 = rows["s01_grid"]
    assert (s01.reports, s01.became_whistles, s01.merged, s01.became_share) == (3, 1, 1, 0.3333)
    assert s01.closed == Ratio(1, 2) and s01.street.code == "S01" and s01.employment == ""
    s02 = rows["s02_grid"]
    assert (s02.reports, s02.became_share, s02.closed.rate, s02.grids, s02.kind) == (0, None, None, 1, "service")
    assert list(rows) == ["s01_grid", "s02_grid"]


def test_the_statistics_take_a_fixed_number_of_queries(cast, march, django_assert_num_queries):
    with django_assert_num_queries(2):
        street_whistle_rates(district=cast.district, period=MARCH)
    # counts, adopted topics, categories, streets (and communities)
    with django_assert_num_queries(4):
        high_frequency(district=cast.district, period=MARCH)
    with django_assert_num_queries(5):
        high_frequency(district=cast.district, period=MARCH, area="community")
    with django_assert_num_queries(3):
        grid_workers(district=cast.district, period=MARCH)
    for by, queries in (("street", 2), ("community", 2), ("grid", 2), ("category", 2), ("source", 1), ("day", 1)):
        with django_assert_num_queries(queries):
            whistle_counts(district=cast.district, period=MARCH, by=by)

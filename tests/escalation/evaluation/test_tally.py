"""The evaluation tally holds exactly what the direct computation counts, and is counted again when old."""

from datetime import timedelta

import pytest

from escalation.evaluation import DEPARTMENT, STREET, Period, fact_counts, ranking
from escalation.evaluation_tally import evaluation_tally_count, evaluation_tally_recent, tallied_facts
from escalation.models import EvaluationTally, EvaluationTallyMonth
from escalation.tasks import tally_evaluation
from tests.escalation.evaluation.facts import at, callback, close, task, whistle
from tests.factories import DistrictFactory, StreetFactory
from whistle.models import Task, Whistle

MARCH, FEBRUARY = Period.month(2026, 3), Period.month(2026, 2)
AFTER = at("2026-04-10 12:00")


@pytest.fixture
def history(cast):
    """Every kind of fact in February and March, in both streets."""
    for month in ("02", "03"):
        on_time = whistle(cast, created=f"2026-{month}-02 09:00")
        task(on_time, cast.d13, due=f"2026-{month}-02 10:00", acknowledged=f"2026-{month}-02 09:30")
        task(
            on_time, cast.d12, due=f"2026-{month}-02 10:00", acknowledged=f"2026-{month}-02 11:00", role="co_operating"
        )
        close(on_time, f"2026-{month}-05 10:00")
        callback(cast, on_time, f"2026-{month}-06 10:00", satisfaction="dissatisfied", solved=False)
        callback(cast, on_time, f"2026-{month}-07 10:00", satisfaction="basically_satisfied", solved=True)
        late = whistle(cast, street=cast.s02, category=cast.order, created=f"2026-{month}-03 09:00")
        task(late, cast.t04, due=f"2026-{month}-03 10:00")
        returned = whistle(cast, created=f"2026-{month}-04 09:00")
        task(
            returned,
            cast.d13,
            due=f"2026-{month}-04 10:00",
            status=Task.Status.RETURNED,
            returned_at=at(f"2026-{month}-04 12:00"),
        )
        task(returned, cast.e06, due=f"2026-{month}-05 10:00", acknowledged=f"2026-{month}-05 09:00")
        close(returned, f"2026-{month}-08 10:00")
        leaderless = whistle(cast, street=cast.s02, created=f"2026-{month}-09 09:00")
        close(leaderless, f"2026-{month}-10 10:00")
        duplicate = whistle(cast, created=f"2026-{month}-11 09:00", status=Whistle.Status.MERGED, merged_into=on_time)
        task(duplicate, cast.d13, due=f"2026-{month}-11 10:00")


def test_the_tally_counts_exactly_what_the_direct_computation_counts(cast, history):
    direct = fact_counts(district=cast.district, current=MARCH, previous=FEBRUARY, now=AFTER)

    tallied, counted_at = tallied_facts(district=cast.district, current=MARCH, previous=FEBRUARY, now=AFTER)

    assert tallied == direct and counted_at == AFTER
    assert len(direct) > 8 and any(department is None for _bucket, department, _street in direct)
    for level in (DEPARTMENT, STREET):
        from_tally = ranking(district=cast.district, period=MARCH, level=level, now=AFTER)
        counted = ranking(district=cast.district, period=MARCH, level=level, now=AFTER, tallied=False)
        assert from_tally.rows == counted.rows
        assert any(row.rank for row in from_tally.rows) and any(row.previous_rank for row in from_tally.rows)


def test_the_tally_is_kept_while_young_and_counted_again_when_old(cast, history, settings):
    settings.EVALUATION_TALLY_MAX_AGE_S = 600

    first = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER)
    task(whistle(cast), cast.e06, due="2026-03-20 10:00")  # a late E06 task appears
    young = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER + timedelta(minutes=9))
    old = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER + timedelta(minutes=10))

    def e06(result):
        return next(row.rates.response for row in result.rows if row.unit.code == "E06")

    assert (first.counted_at, young.counted_at, old.counted_at) == (AFTER, AFTER, AFTER + timedelta(minutes=10))
    assert (e06(first).denominator, e06(young).denominator, e06(old).denominator) == (1, 1, 2)


def test_counting_a_month_again_replaces_its_rows(cast, history):
    evaluation_tally_count(district=cast.district, month=MARCH, now=AFTER)
    rows = set(EvaluationTally.objects.values_list("department_id", "street_id", "acknowledgements_due", "closed"))

    evaluation_tally_count(district=cast.district, month=MARCH, now=AFTER + timedelta(hours=1))

    assert (
        set(EvaluationTally.objects.values_list("department_id", "street_id", "acknowledgements_due", "closed")) == rows
    )
    assert EvaluationTallyMonth.objects.get(month=MARCH.first).counted_at == AFTER + timedelta(hours=1)


def test_a_month_without_facts_is_counted_once_and_read_from_its_stamp(cast, settings, django_assert_num_queries):
    settings.EVALUATION_TALLY_MAX_AGE_S = 600
    tallied_facts(district=cast.district, current=MARCH, previous=FEBRUARY, now=AFTER)

    with django_assert_num_queries(2):  # the stamps, the rows
        facts, counted_at = tallied_facts(district=cast.district, current=MARCH, previous=FEBRUARY, now=AFTER)

    assert facts == {} and counted_at == AFTER


def test_beat_counts_the_current_and_the_previous_month_of_every_district(cast, history):
    other = DistrictFactory(code="HD", name="海淀区")
    StreetFactory(district=other, code="H01")

    written = evaluation_tally_recent(now=at("2026-04-02 08:00"))

    stamps = set(EvaluationTallyMonth.objects.values_list("district__code", "month"))
    assert stamps == {(d, Period.month(2026, m).first) for d in (cast.district.code, "HD") for m in (3, 4)}
    assert written == EvaluationTally.objects.count() > 0
    assert tally_evaluation() >= 0  # the Celery task is a thin wrapper of the same


def test_a_month_someone_else_just_counted_is_not_counted_twice(cast, history, settings):
    settings.EVALUATION_TALLY_MAX_AGE_S = 600
    evaluation_tally_count(district=cast.district, month=MARCH, now=AFTER)

    # Found stale before the lock, fresh under it: the other reader's count is used.
    again = evaluation_tally_count(
        district=cast.district, month=MARCH, now=AFTER + timedelta(minutes=1), unless_fresh=True
    )

    assert again is None and EvaluationTallyMonth.objects.get(month=MARCH.first).counted_at == AFTER

"""The three rates, the score and the ranking against hand-computed fixtures (escalation.evaluation)."""

import pytest

from escalation.evaluation import (
    DEPARTMENT,
    STREET,
    Period,
    Rates,
    Ratio,
    Weights,
    competition_ranks,
    ranking,
)
from escalation.models import EvaluationWeights
from tests.escalation.evaluation.facts import at, callback, close, task, whistle
from whistle.models import Task, Whistle

MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)
AFTER = at("2026-04-10 12:00")


def rows(result):
    return {row.unit.code: row for row in result.rows}


def rates_of(cast, code, *, level=DEPARTMENT, period=MARCH, now=AFTER):
    return rows(ranking(district=cast.district, period=period, level=level, now=now))[code].rates


# Response rate -----------------------------------------------------------------------------


def test_the_response_rate_is_acknowledged_on_time_over_acknowledgements_due(cast):
    on_time = whistle(cast)
    task(on_time, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:30")
    task(on_time, cast.d12, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00", role="co_operating")
    late = whistle(cast)
    task(late, cast.d13, due="2026-03-03 10:00", acknowledged="2026-03-03 11:00")
    task(late, cast.d12, due="2026-03-03 10:00", acknowledged="2026-03-03 10:00", role="co_operating")
    task(whistle(cast), cast.d13, due="2026-03-04 10:00")  # never acknowledged: late
    # Returned before its deadline without acknowledging: not the department's to acknowledge.
    task(
        whistle(cast),
        cast.d13,
        due="2026-03-05 10:00",
        status=Task.Status.RETURNED,
        returned_at=at("2026-03-05 09:00"),
    )
    # Returned after its deadline without acknowledging: it was late first.
    task(
        whistle(cast),
        cast.d13,
        due="2026-03-06 10:00",
        status=Task.Status.RETURNED,
        returned_at=at("2026-03-06 12:00"),
    )
    # Released by the dispatcher before its deadline (its updated_at is the release).
    task(
        whistle(cast),
        cast.d13,
        due="2026-03-07 10:00",
        status=Task.Status.RELEASED,
        updated_at=at("2026-03-07 09:00"),
    )
    task(whistle(cast), cast.d13, due="2026-02-27 10:00", acknowledged="2026-02-27 09:00")  # February's
    task(whistle(cast), cast.d13, due="2026-04-01 10:00")  # April's

    assert rates_of(cast, "D13").response == Ratio(1, 4)
    assert rates_of(cast, "D13").response.rate == 0.25
    assert rates_of(cast, "D12").response == Ratio(2, 2)
    assert rates_of(cast, "E06").response == Ratio(0, 0)
    assert rates_of(cast, "E06").response.rate is None
    # The street: every task of its whistles.
    assert rates_of(cast, "S01", level=STREET).response == Ratio(3, 6)
    assert rates_of(cast, "S02", level=STREET).response.rate is None


def test_an_unacknowledged_task_counts_once_its_deadline_has_passed(cast):
    task(whistle(cast), cast.d13, due="2026-04-10 11:00")  # passed an hour ago: late
    task(whistle(cast), cast.d13, due="2026-04-10 13:00")  # not yet due: not counted yet
    task(whistle(cast), cast.d13, due="2026-04-10 14:00", acknowledged="2026-04-10 12:00")  # early: counted

    assert rates_of(cast, "D13", period=APRIL).response == Ratio(1, 2)


def test_a_period_cutting_across_a_task_counts_each_fact_in_its_own_month(cast):
    """Due (and late) on 31 March, acknowledged on 1 April, closed and confirmed on 2 April."""
    crossing = whistle(cast, category=cast.order, created="2026-03-31 22:30")
    task(crossing, cast.t01, due="2026-03-31 23:00", acknowledged="2026-04-01 08:00")
    close(crossing, "2026-04-02 16:00")

    march, april = rates_of(cast, "T01"), rates_of(cast, "T01", period=APRIL)

    assert (march.response, march.resolution) == (Ratio(0, 1), Ratio(0, 0))
    assert (april.response, april.resolution) == (Ratio(0, 0), Ratio(1, 1))


def test_tasks_of_a_merged_whistle_do_not_count(cast):
    kept = whistle(cast)
    task(kept, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    duplicate = whistle(cast, status=Whistle.Status.MERGED, merged_into=kept)
    task(duplicate, cast.d13, due="2026-03-02 10:00")  # routed before it was found a duplicate

    assert rates_of(cast, "D13").response == Ratio(1, 1)
    assert rates_of(cast, "S01", level=STREET).response == Ratio(1, 1)


# Resolution rate ---------------------------------------------------------------------------


def test_the_resolution_rate_takes_the_latest_verdict_since_the_closing(cast):
    plain = whistle(cast)  # confirmed, no callback: the street's confirmation is the verdict
    task(plain, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    task(plain, cast.d12, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00", role="co_operating")
    close(plain, "2026-03-10 10:00")
    unsolved = whistle(cast)
    task(unsolved, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    close(unsolved, "2026-03-11 10:00")
    callback(cast, unsolved, "2026-03-12 10:00", satisfaction="basically_satisfied", solved=False)
    earlier_round = whistle(cast)  # a callback of an earlier round (before this closing) is no verdict on it
    task(earlier_round, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    callback(cast, earlier_round, "2026-03-09 10:00", satisfaction="dissatisfied", solved=False)
    close(earlier_round, "2026-03-12 10:00")
    changed_mind = whistle(cast)
    task(changed_mind, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    close(changed_mind, "2026-03-20 10:00")
    callback(cast, changed_mind, "2026-03-21 10:00", satisfaction="dissatisfied", solved=False)
    callback(cast, changed_mind, "2026-03-22 10:00", satisfaction="satisfied", solved=True)
    for when in ("2026-02-27 10:00", "2026-04-01 10:00"):  # other months
        other = whistle(cast)
        task(other, cast.d13, due="2026-02-20 10:00", acknowledged="2026-02-20 09:00")
        close(other, when)

    assert rates_of(cast, "D13").resolution == Ratio(3, 4)
    # A co-operating department is judged on the whistles it led only: none.
    assert rates_of(cast, "D12").resolution == Ratio(0, 0)
    assert rates_of(cast, "S01", level=STREET).resolution == Ratio(3, 4)
    assert rates_of(cast, "D13", period=Period.month(2026, 2)).resolution == Ratio(1, 1)


def test_a_whistle_the_lead_returned_is_judged_on_the_department_that_led_it_to_the_end(cast):
    handed_on = whistle(cast)
    task(
        handed_on,
        cast.d13,
        due="2026-03-02 10:00",
        status=Task.Status.RETURNED,
        returned_at=at("2026-03-02 09:00"),
    )
    task(handed_on, cast.d12, due="2026-03-03 10:00", acknowledged="2026-03-03 09:00")
    close(handed_on, "2026-03-10 10:00")
    callback(cast, handed_on, "2026-03-11 10:00", satisfaction="satisfied")

    assert (rates_of(cast, "D12").resolution, rates_of(cast, "D12").satisfaction) == (Ratio(1, 1), Ratio(1, 1))
    assert (rates_of(cast, "D13").resolution, rates_of(cast, "D13").satisfaction) == (Ratio(0, 0), Ratio(0, 0))


# Satisfaction rate -------------------------------------------------------------------------


def test_the_satisfaction_rate_counts_each_whistles_latest_callback_of_the_period(cast):
    verdicts = {
        "twice": [("2026-03-05 10:00", "dissatisfied"), ("2026-03-20 10:00", "satisfied")],
        "basic": [("2026-03-06 10:00", "basically_satisfied")],
        "unhappy": [("2026-03-07 10:00", "dissatisfied")],
        "across": [("2026-02-27 10:00", "satisfied"), ("2026-03-02 10:00", "dissatisfied")],
    }
    for name, calls in verdicts.items():
        case = whistle(cast, title=name)
        task(case, cast.d13, due="2026-02-20 10:00", acknowledged="2026-02-20 09:00", status="closed")
        for when, satisfaction in calls:
            callback(cast, case, when, satisfaction=satisfaction)

    assert rates_of(cast, "D13").satisfaction == Ratio(2, 4)
    assert rates_of(cast, "S01", level=STREET).satisfaction == Ratio(2, 4)
    assert rates_of(cast, "D13", period=Period.month(2026, 2)).satisfaction == Ratio(1, 1)


# Score and ranking -------------------------------------------------------------------------


def test_the_score_is_the_weighted_mean_of_the_rates_with_data():
    everything = Rates(Ratio(1, 2), Ratio(3, 4), Ratio(1, 1))
    no_resolution = Rates(Ratio(1, 2), Ratio(0, 0), Ratio(1, 1))

    assert everything.score(Weights()) == 75.0  # 30 × 0.5 + 40 × 0.75 + 30 × 1
    assert no_resolution.score(Weights()) == 75.0  # (30 × 0.5 + 30 × 1) ÷ 60
    assert no_resolution.score(Weights(50, 25, 25)) == 66.67  # (50 × 0.5 + 25 × 1) ÷ 75
    assert Rates().score(Weights()) is None
    assert Rates(Ratio(1, 1)).score(Weights(0, 50, 50)) is None  # the only rate with data weighs nothing


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    assert competition_ranks({1: 90.0, 2: 95.5, 3: 90.0, 4: None, 5: 80.0}) == {1: 2, 2: 1, 3: 2, 4: None, 5: 4}


def _acknowledged(cast, department, due, *, on_time: bool):
    ack = due.replace("10:00", "09:00" if on_time else "11:00")
    task(whistle(cast), department, due=due, acknowledged=ack)


def test_the_ranking_with_ties_units_without_data_and_the_change_since_the_previous_period(cast):
    # February: D12 and E06 on time (100), D13 late (0).
    _acknowledged(cast, cast.d12, "2026-02-10 10:00", on_time=True)
    _acknowledged(cast, cast.e06, "2026-02-10 10:00", on_time=True)
    _acknowledged(cast, cast.d13, "2026-02-10 10:00", on_time=False)
    # March: D12 and D13 on time (100, tied), E06 half (50); T01 and T04 nothing at all.
    _acknowledged(cast, cast.d12, "2026-03-10 10:00", on_time=True)
    _acknowledged(cast, cast.d13, "2026-03-10 10:00", on_time=True)
    _acknowledged(cast, cast.e06, "2026-03-10 10:00", on_time=True)
    _acknowledged(cast, cast.e06, "2026-03-11 10:00", on_time=False)

    result = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER)

    table = [
        (r.unit.code, r.score, r.rank, r.previous_score, r.previous_rank, r.rank_change, r.score_change)
        for r in result.rows
    ]
    assert table == [
        ("D12", 100.0, 1, 100.0, 1, 0, 0.0),
        ("D13", 100.0, 1, 0.0, 3, 2, 100.0),
        ("E06", 50.0, 3, 100.0, 1, -2, -50.0),
        ("T01", None, None, None, None, None, None),
        ("T04", None, None, None, None, None, None),
    ]
    assert result.previous == Period.month(2026, 2)


def test_an_empty_period_has_no_rates_and_no_ranks_never_zero(cast):
    for level in (DEPARTMENT, STREET):
        result = ranking(district=cast.district, period=MARCH, level=level, now=AFTER)

        assert result.rows
        for row in result.rows:
            assert [getattr(row.rates, name).rate for name in ("response", "resolution", "satisfaction")] == [None] * 3
            assert (row.score, row.rank, row.rank_change, row.score_change) == (None, None, None, None)
        assert [row.unit.code for row in result.rows] == sorted(row.unit.code for row in result.rows)


def test_the_streets_are_ranked_on_their_whistles(cast):
    good = whistle(cast, street=cast.s02, category=cast.order)
    task(good, cast.t04, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    close(good, "2026-03-03 10:00")
    poor = whistle(cast)
    task(poor, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 11:00")

    result = ranking(district=cast.district, period=MARCH, level=STREET, now=AFTER)

    assert [(r.unit.code, r.rank, r.score) for r in result.rows] == [("S02", 1, 100.0), ("S01", 2, 0.0)]


def test_the_district_weights_change_the_score_and_the_formulas_show_them(cast):
    case = whistle(cast)
    task(case, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 11:00")  # response 0
    close(case, "2026-03-03 10:00")  # resolution 1

    default = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER)
    EvaluationWeights.objects.create(district=cast.district, response=20, resolution=60, satisfaction=20)
    weighted = ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER)

    assert rows(default)["D13"].score == pytest.approx(100 * 40 / 70, abs=0.01)  # 57.14
    assert rows(weighted)["D13"].score == 75.0  # 60 ÷ 80
    assert default.weights.is_default and not weighted.weights.is_default
    assert "30 × response rate + 40 × resolution rate + 30 × satisfaction rate" in default.formulas["score"]
    assert "20 × response rate + 60 × resolution rate + 20 × satisfaction rate" in weighted.formulas["score"]


def test_weights_must_add_up_to_100(cast):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    weights = EvaluationWeights(district=cast.district, response=30, resolution=30, satisfaction=30)
    with pytest.raises(ValidationError) as error:
        weights.full_clean()
    assert "add up to 100" in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        weights.save()


@pytest.mark.parametrize("level", [DEPARTMENT, STREET])
@pytest.mark.parametrize("many", [False, True])
def test_a_ranking_takes_a_fixed_number_of_queries_whatever_the_rows(
    cast, django_assert_num_queries, settings, level, many
):
    for n in range(12 if many else 1):
        case = whistle(cast, street=cast.s02 if n % 2 else cast.s01)
        task(case, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
        task(case, cast.d12, due="2026-02-02 10:00", acknowledged="2026-02-02 11:00", role="co_operating")
        close(case, "2026-03-05 10:00")
        callback(cast, case, "2026-03-06 10:00")
    settings.EVALUATION_TALLY_MAX_AGE_S = 600
    ranking(district=cast.district, period=MARCH, level=level, now=AFTER)  # counts the two months

    # counted directly: the weights, the units, one grouped query per rate
    with django_assert_num_queries(5):
        direct = ranking(district=cast.district, period=MARCH, level=level, now=AFTER, tallied=False)
    # from the tally: the weights, the units, the tally's stamps and rows
    with django_assert_num_queries(4):
        tallied = ranking(district=cast.district, period=MARCH, level=level, now=AFTER)

    assert direct.rows == tallied.rows and tallied.rows[0].rank == 1

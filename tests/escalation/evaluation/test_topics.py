"""Problems of the month (每月一题): adopted from a high-frequency row, their whistles linked, followed month by month."""

import pytest

from config.errors import Conflict, InvalidInput, NotAllowed
from escalation.evaluation import Period
from escalation.models import ProblemTopic
from escalation.statistics import high_frequency, topic_trends
from escalation.topics import problem_topic_adopt
from tests.escalation.evaluation.facts import at, whistle
from whistle.models import Event, Whistle

MARCH = Period.month(2026, 3)


@pytest.fixture
def compound(cast):
    """Old-compound whistles of S01: one in February, three in March, two in April; one of S02 in March."""
    found = {}
    for created in ("2026-02-10", "2026-03-02", "2026-03-15", "2026-03-31", "2026-04-01", "2026-04-20"):
        found.setdefault(created[:7], []).append(whistle(cast, created=f"{created} 10:00"))
    found["s02"] = whistle(cast, street=cast.s02, created="2026-03-05 10:00")
    whistle(cast, created="2026-03-06 10:00", status=Whistle.Status.MERGED, merged_into=found["2026-03"][0])
    return found


def adopt(cast, **fields):
    return problem_topic_adopt(
        actor=cast.supervisor, **{"period": "2026-03", "category": "ENV-COMPOUND", "street": "S01", **fields}
    )


def test_a_supervisor_adopts_a_high_frequency_row_and_its_whistles_of_the_month_are_linked(cast, compound):
    topic = adopt(cast, note="先治理楼道堆物", now=at("2026-04-02 09:00"))

    assert (topic.title, topic.period.isoformat(), topic.street, topic.community) == (
        "老旧小区环境 · 百泉街道",
        "2026-03-01",
        cast.s01,
        None,
    )
    assert set(topic.whistles.all()) == set(compound["2026-03"])
    events = Event.objects.filter(verb="topic_linked")
    assert sorted(e.whistle_id for e in events) == sorted(w.pk for w in compound["2026-03"])
    assert {(e.actor, e.new["topic"], e.new["month"], e.created_at) for e in events} == {
        (cast.supervisor, topic.pk, "2026-03", at("2026-04-02 09:00"))
    }
    rows = high_frequency(district=cast.district, period=MARCH)
    assert [(r.street.code, r.topic) for r in rows] == [("S01", topic.pk), ("S02", None)]


def test_its_count_is_followed_month_by_month(cast, compound):
    topic = adopt(cast)
    whole_district = adopt(cast, street="", title="全区老旧小区")

    trends = topic_trends([topic, whole_district], until=Period.month(2026, 4))

    assert [(p.month, p.count) for p in trends[topic.pk]] == [
        ("2026-01", 0),
        ("2026-02", 1),
        ("2026-03", 3),
        ("2026-04", 2),
    ]
    assert [p.count for p in trends[whole_district.pk]] == [0, 1, 4, 2]
    assert whole_district.whistles.count() == 4


def test_a_community_topic_is_another_area_than_its_streets(cast, compound):
    adopt(cast)
    community = adopt(cast, street="", community="S01C01")

    assert community.street == cast.s01 and community.whistles.count() == 3


def test_the_same_problem_is_adopted_once_a_month(cast, compound):
    adopt(cast)

    with pytest.raises(Conflict) as error:
        adopt(cast, title="again")

    assert error.value.code == "already_adopted"
    assert ProblemTopic.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": ""}, "period"),
        ({"category": "NOPE"}, "category"),
        ({"category": ""}, "category"),
        ({"street": "S99"}, "street"),
        ({"community": "S02C01"}, "community"),  # not in S01
        ({"category": "MISC-OTHER"}, "category"),  # no whistle of it in March
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(cast, compound, fields, field):
    with pytest.raises(InvalidInput) as error:
        adopt(cast, **fields)

    assert field in error.value.fields
    assert ProblemTopic.objects.count() == 0 and not Event.objects.filter(verb="topic_linked").exists()


@pytest.mark.parametrize("who", ["s01_staff", "d13_staff", "hotline", "outsider"])
def test_only_supervisors_adopt(cast, compound, who):
    with pytest.raises(NotAllowed):
        problem_topic_adopt(actor=getattr(cast, who), period="2026-03", category="ENV-COMPOUND", street="S01")

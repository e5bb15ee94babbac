"""The evaluation API: the same numbers as the selectors, for supervisors only, bad input a 400 naming the field."""

import csv
import io

import pytest
from openpyxl import load_workbook

from escalation.models import ProblemTopic
from tests.escalation.evaluation.facts import at, callback, close, task, whistle
from tests.factories import DistrictFactory, UserFactory
from tests.whistle.test_api import assert_error, post, token_client

BASE = "/api/v1/evaluation"
RATES = f"{BASE}/rates/"
RATINGS = f"{BASE}/ratings/"
STATISTICS = f"{BASE}/statistics/"
HIGH_FREQUENCY = f"{BASE}/high-frequency/"
TOPICS = f"{BASE}/topics/"
GRID_WORKERS = f"{BASE}/grid-workers/"
REPORT = f"{BASE}/report/"
READS = [RATES, RATINGS, STATISTICS, HIGH_FREQUENCY, TOPICS, GRID_WORKERS, REPORT]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chinese_client(user):
    client = token_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


@pytest.fixture
def march(cast):
    """D13: one of two acknowledgements on time, one whistle closed and rated satisfied; T04 all on time."""
    first = whistle(cast)
    task(first, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    close(first, "2026-03-05 10:00")
    callback(cast, first, "2026-03-06 10:00")
    task(whistle(cast), cast.d13, due="2026-03-03 10:00", acknowledged="2026-03-03 12:00")
    s02 = whistle(cast, street=cast.s02, category=cast.order)
    task(s02, cast.t04, due="2026-03-04 10:00", acknowledged="2026-03-04 09:00")
    return first


def test_the_rates_rank_the_departments_with_weights_and_formulas(cast, march):
    response = token_client(cast.supervisor).get(RATES, {"period": "2026-03"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["district"] == {"code": cast.district.code, "name": cast.district.name}
    assert body["level"] == "department" and body["counted_at"].endswith("+08:00")
    assert body["period"] == {"label": "2026-03", "start": "2026-03-01", "end": "2026-03-31"}
    assert body["previous_period"]["label"] == "2026-02"
    assert body["weights"] == {
        "response": 30,
        "resolution": 40,
        "satisfaction": 30,
        "is_default": True,
        "defaults": {"response": 30, "resolution": 40, "satisfaction": 30},
    }
    assert set(body["formulas"]) == {"response", "resolution", "satisfaction", "score", "rank"}
    rows = {row["code"]: row for row in body["results"]}
    assert [row["code"] for row in body["results"]][:2] == ["T04", "D13"]
    d13 = rows["D13"]
    assert d13["rates"]["response"] == {"rate": 0.5, "numerator": 1, "denominator": 2}
    assert d13["rates"]["resolution"] == {"rate": 1.0, "numerator": 1, "denominator": 1}
    assert d13["rates"]["satisfaction"] == {"rate": 1.0, "numerator": 1, "denominator": 1}
    assert (d13["score"], d13["rank"], d13["previous_rank"], d13["rank_change"]) == (85.0, 2, None, None)
    assert rows["T04"]["score"] == 100.0 and rows["T04"]["rank"] == 1
    assert rows["E06"]["rates"]["response"]["rate"] is None and rows["E06"]["rank"] is None


def test_the_rates_of_the_streets_and_of_a_range_of_days(cast, march):
    client = token_client(cast.supervisor)

    streets = client.get(RATES, {"period": "2026-03", "level": "street"}).json()
    ranged = client.get(RATES, {"from": "2026-03-03", "to": "2026-03-04"}).json()

    assert [(row["code"], row["rank"]) for row in streets["results"]] == [("S02", 1), ("S01", 2)]
    assert ranged["period"] == {"label": "2026-03-03–2026-03-04", "start": "2026-03-03", "end": "2026-03-04"}
    assert ranged["previous_period"] == {"label": "2026-03-01–2026-03-02", "start": "2026-03-01", "end": "2026-03-02"}
    d13 = next(row for row in ranged["results"] if row["code"] == "D13")
    assert d13["rates"]["response"]["denominator"] == 1 and d13["previous_rates"]["response"]["numerator"] == 1


def test_without_a_period_the_current_month_in_shanghai(cast):
    import time_machine

    with time_machine.travel(at("2026-04-01 00:30"), tick=False):  # still 31 March in UTC
        body = token_client(cast.supervisor).get(RATES).json()

    assert body["period"]["label"] == "2026-04"


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (RATES, {"period": "2026-13"}, "period"),
        (RATES, {"period": "March"}, "period"),
        (RATES, {"level": "x"}, "level"),
        (RATES, {"from": "2026-03-01"}, "to"),
        (RATES, {"from": "2026-03-05", "to": "2026-03-01"}, "to"),
        (RATES, {"from": "2025-01-01", "to": "2026-03-01"}, "to"),
        (RATES, {"period": "2026-03", "from": "2026-03-01", "to": "2026-03-02"}, "period"),
        (RATES, {"format": "pdf"}, "format"),
        (RATES, {"format": "xlsx", "period": "2026-00"}, "period"),
        (STATISTICS, {"by": "x"}, "by"),
        (HIGH_FREQUENCY, {"area": "x"}, "area"),
        (HIGH_FREQUENCY, {"limit": "0"}, "limit"),
        (HIGH_FREQUENCY, {"limit": "many"}, "limit"),
        (HIGH_FREQUENCY, {"rising": "maybe"}, "rising"),
        (TOPICS, {"period": "2026-3"}, "period"),
        (REPORT, {"period": "2026-13"}, "period"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_the_rule(cast, path, query, field):
    response = token_client(cast.supervisor).get(path, query)

    assert response["Content-Type"] == "application/json"
    assert_error(response, 400, "invalid", field)


def test_a_bad_month_is_explained_in_english_and_in_chinese(cast):
    english = token_client(cast.supervisor).get(RATES, {"period": "2026-13"}).json()
    chinese = chinese_client(cast.supervisor).get(RATES, {"period": "2026-13"}).json()

    assert "YYYY-MM" in english["fields"]["period"][0] and english["message"] == "Some fields are not valid."
    assert chinese["message"] == "部分字段无效。" and "YYYY-MM" in chinese["fields"]["period"][0]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("who", ["d13_staff", "s01_staff", "s01_grid", "hotline", "outsider"])
def test_the_evaluation_is_for_supervisors_only(cast, path, who):
    assert_error(token_client(getattr(cast, who)).get(path), 403, "permission_denied")


@pytest.mark.parametrize("path", READS)
def test_the_evaluation_needs_credentials(db, path):
    from rest_framework.test import APIClient

    assert APIClient().get(path).status_code == 401


def test_an_administrator_names_the_district_when_there_are_several(cast, march):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client = token_client(admin)

    assert client.get(RATES, {"period": "2026-03"}).status_code == 200
    DistrictFactory(code="HD", name="海淀区")
    assert_error(client.get(RATES, {"period": "2026-03"}), 400, "invalid", "district")
    assert_error(client.get(RATES, {"district": "XX"}), 400, "invalid", "district")
    body = client.get(RATES, {"period": "2026-03", "district": cast.district.code}).json()
    assert next(row for row in body["results"] if row["code"] == "D13")["rank"] == 2


def test_the_ratings_statistics_high_frequency_and_grid_workers(cast, march):
    client = token_client(cast.supervisor)
    query = {"period": "2026-03"}

    ratings = client.get(RATINGS, query).json()
    by_street = client.get(STATISTICS, query).json()
    by_day = client.get(STATISTICS, {**query, "by": "day"}).json()
    frequent = client.get(HIGH_FREQUENCY, {**query, "area": "community"}).json()
    workers = client.get(GRID_WORKERS, query).json()

    d13 = next(row for row in ratings["results"] if row["code"] == "D13")
    assert d13["ratings"] == 0 and d13["overall"] is None
    assert d13["closed_on_time"] == {"rate": 1.0, "numerator": 1, "denominator": 1}
    assert by_street["by"] == "street" and by_street["total"] == 3
    assert [(r["key"], r["count"], r["basis"], r["rate"]) for r in by_street["results"]] == [
        ("S01", 2, "grid", 1.0),
        ("S02", 1, "grid", 1.0),
    ]
    assert by_street["thresholds"] == {"per_residents": 10000, "low_share": 0.5, "high_multiple": 2.0}
    assert len(by_day["results"]) == 31 and by_day["total"] == 3
    assert [(r["category"]["code"], r["community"]["code"], r["count"]) for r in frequent["results"]] == [
        ("ENV-COMPOUND", "S01C01", 2),
        ("ORDER-PUBLIC", "S02C01", 1),
    ]
    assert frequent["previous_period"]["label"] == "2026-02"
    assert {row["username"] for row in workers["results"]} == {"s01_grid", "s02_grid"}


def test_a_supervisor_adopts_a_topic_and_lists_it_with_its_trend(cast, march):
    client = token_client(cast.supervisor)
    body = {"period": "2026-03", "category": "ENV-COMPOUND", "street": "S01", "note": "楼道"}

    created = post(client, TOPICS, body)
    again = post(client, TOPICS, body)
    listed = client.get(TOPICS, {"period": "2026-03"}).json()

    assert created.status_code == 201, created.json()
    topic = created.json()
    assert (topic["month"], topic["category"]["code"], topic["street"]["code"], topic["linked"]) == (
        "2026-03",
        "ENV-COMPOUND",
        "S01",
        2,
    )
    assert topic["adopted_by"] == "supervisor" and topic["community"] is None
    assert_error(again, 409, "already_adopted")
    assert [row["id"] for row in listed["results"]] == [topic["id"]]
    assert {"month": "2026-03", "count": 2} in listed["results"][0]["trend"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-03", "category": "NOPE"}, "category"),
        ({"period": 202603, "category": "ENV-COMPOUND"}, "period"),
        ({"category": "ENV-COMPOUND"}, "period"),
    ],
)
def test_a_bad_adoption_is_a_400_naming_the_field(cast, march, body, field):
    assert_error(post(token_client(cast.supervisor), TOPICS, body), 400, "invalid", field)
    assert not ProblemTopic.objects.exists()


def test_only_supervisors_adopt_topics(cast, march):
    body = {"period": "2026-03", "category": "ENV-COMPOUND", "street": "S01"}

    assert_error(post(token_client(cast.s01_staff), TOPICS, body), 403, "permission_denied")


# Files -------------------------------------------------------------------------------------


def test_the_rates_as_an_excel_file(cast, march):
    response = token_client(cast.supervisor).get(RATES, {"period": "2026-03", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == (
        f'attachment; filename="evaluation-{cast.district.code}-rates-department-2026-03.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("rank", "code", "department", "response rate")
    d13 = next(row for row in rows if row[1] == "D13")
    assert d13[0] == 2 and d13[3] == 0.5
    e06 = next(row for row in rows if row[1] == "E06")
    assert (e06[0], e06[3]) == ("—", "—")


def test_the_statistics_as_csv_in_chinese(cast, march):
    client = chinese_client(cast.supervisor)

    response = client.get(STATISTICS, {"period": "2026-03", "by": "category", "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('whistles-by-category-2026-03.csv"')
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["编码", "事项"]
    assert rows[1:] == [["ENV-COMPOUND", "老旧小区环境", "2"], ["ORDER-PUBLIC", "治安秩序", "1"]]


@pytest.mark.parametrize("path", [RATINGS, HIGH_FREQUENCY, TOPICS, GRID_WORKERS, STATISTICS])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_table_downloads_as_a_file(cast, march, path, fmt):
    response = token_client(cast.supervisor).get(path, {"period": "2026-03", "format": fmt})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="evaluation-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')


def test_the_monthly_report_workbook(cast, march):
    response = token_client(cast.supervisor).get(REPORT, {"period": "2026-03"})

    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response["Content-Disposition"].endswith('monthly-report-2026-03.xlsx"')
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == ["Cover", "Three rates departments", "Three rates streets"]
    cover = [row for row in workbook["Cover"].values]
    assert ("Period", "2026-03") in cover and ("response rate", 30) in cover


@pytest.mark.parametrize("many", [False, True])
def test_the_rates_endpoint_takes_a_fixed_number_of_queries(cast, django_assert_num_queries, settings, many):
    for n in range(10 if many else 1):
        case = whistle(cast, street=cast.s02 if n % 2 else cast.s01)
        task(case, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
        close(case, "2026-03-05 10:00")
        callback(cast, case, "2026-03-06 10:00")
    settings.EVALUATION_TALLY_MAX_AGE_S = 600
    client = token_client(cast.supervisor)
    client.get(RATES, {"period": "2026-03"})  # counts the tally

    # token with user and membership, district, weights, units, the tally's stamps and rows
    with django_assert_num_queries(6):
        response = client.get(RATES, {"period": "2026-03"})

    assert response.status_code == 200

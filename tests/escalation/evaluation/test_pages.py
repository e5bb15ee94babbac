"""The supervisors' evaluation pages: the selectors' numbers on the page, supervisors only, adopting, downloads."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from escalation import evaluation, statistics
from escalation.models import ProblemTopic
from escalation.periods import Period
from tests.escalation.evaluation.facts import callback, close, task, whistle
from whistle.models import Whistle

RANKINGS = "/supervision/evaluation/"
STATISTICS = "/supervision/evaluation/statistics/"
PROBLEMS = "/supervision/evaluation/problems/"
ADOPT = "/supervision/evaluation/problems/adopt/"
REPORT = "/supervision/evaluation/report/"
EXPORT = "/supervision/evaluation/export/{}/"
PAGES = [RANKINGS, STATISTICS, PROBLEMS]
MARCH = Period.month(2026, 3)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def signed_in(client, user):
    client.force_login(user)
    return client


def cell(html: str, row_attr: str, field: str, *, table: str = "") -> str:
    """The text of the cell `data-field=field` in the row carrying `row_attr` (e.g. 'data-unit="D13"').

    In the table with the id `table` when given, else the first such row of the page.
    """
    if table:
        html = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S)[0]
    row = re.search(rf"<tr {row_attr}[^>]*>(.*?)</tr>", html, re.S)
    assert row, f"no row {row_attr}"
    found = re.search(rf'data-field="{field}"[^>]*>(.*?)</td>', row[1], re.S)
    assert found, f"no cell {field} in row {row_attr}"
    return re.sub(r"<[^>]+>", "", found[1]).strip()


def raise_march(cast, extra: int = 0):
    """D13: one of two acknowledgements on time, one whistle closed and rated satisfied; T04 all on time.

    `extra` more S01 whistles (each with its task on time) for the query-count tests.
    """
    first = whistle(cast)
    task(first, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    close(first, "2026-03-05 10:00")
    callback(cast, first, "2026-03-06 10:00")
    task(whistle(cast), cast.d13, due="2026-03-03 10:00", acknowledged="2026-03-03 12:00")
    s02 = whistle(cast, street=cast.s02, category=cast.order, source=Whistle.Source.GRID_WORKER, reporter=cast.s02_grid)
    task(s02, cast.t04, due="2026-03-04 10:00", acknowledged="2026-03-04 09:00")
    for n in range(extra):
        more = whistle(cast, created=f"2026-03-{10 + n % 15:02d} 09:00")
        task(more, cast.d13, due=f"2026-03-{10 + n % 15:02d} 10:00", acknowledged=f"2026-03-{10 + n % 15:02d} 09:30")
    return first


@pytest.fixture
def march(cast):
    return raise_march(cast)


# Rankings ----------------------------------------------------------------------------------


def test_the_rankings_show_the_selectors_rates_scores_ranks_and_formulas(client, cast, march):
    response = signed_in(client, cast.supervisor).get(RANKINGS, {"period": "2026-03"})

    assert response.status_code == 200
    html = response.content.decode()
    ranking = evaluation.ranking(district=cast.district, period=MARCH, level="department")
    rows = {row.unit.code: row for row in ranking.rows}
    assert rows["D13"].score == 85.0 and rows["D13"].rank == 2
    assert cell(html, 'data-unit="D13"', "rank") == "2"
    assert cell(html, 'data-unit="D13"', "score") == "85.00"
    assert cell(html, 'data-unit="D13"', "response").startswith("50.00%")
    assert cell(html, 'data-unit="D13"', "resolution").startswith("100.00%")
    assert cell(html, 'data-unit="T04"', "rank") == "1"
    # A zero denominator is a dash, never 0 %; a unit without data has no rank.
    assert cell(html, 'data-unit="E06"', "response").startswith("—")
    assert cell(html, 'data-unit="E06"', "rank") == "—"
    assert 'data-formula="score"' in html and "30 × response rate" in html
    assert 'id="ev-weights"' in html
    assert 'id="ev-chart-data"' in html and "js/evaluation.js" in html and "echarts.min.js" in html
    assert "<script>" not in html.split('id="ev-chart-data"')[0].rsplit("<script", 1)[-1]  # only json_script data
    figures = {row.unit.code: row for row in evaluation.department_figures(district=cast.district, period=MARCH)}
    assert cell(html, 'data-unit="D13"', "overdue", table="ev-figures-table") == str(figures["D13"].overdue)


def test_the_rank_change_has_an_arrow_and_words_for_screen_readers(client, cast, march):
    # February: D13 alone on time (first), T04 late (second); in March T04 is first: up one place.
    feb = whistle(cast, street=cast.s02, category=cast.order, created="2026-02-02 09:00")
    task(feb, cast.t04, due="2026-02-02 10:00", acknowledged="2026-02-02 12:00")
    feb2 = whistle(cast, created="2026-02-03 09:00")
    task(feb2, cast.d13, due="2026-02-03 10:00", acknowledged="2026-02-03 09:00")

    html = signed_in(client, cast.supervisor).get(RANKINGS, {"period": "2026-03"}).content.decode()

    t04 = re.search(r'<tr data-unit="T04">.*?</tr>', html, re.S)[0]
    assert "▲1" in t04 and "up 1 place" in t04
    d13 = re.search(r'<tr data-unit="D13">.*?</tr>', html, re.S)[0]
    assert "▼1" in d13 and "down 1 place" in d13


def test_the_street_level_ranks_the_streets(client, cast, march):
    html = signed_in(client, cast.supervisor).get(RANKINGS, {"period": "2026-03", "level": "street"}).content.decode()

    assert cell(html, 'data-unit="S02"', "rank") == "1" and cell(html, 'data-unit="S01"', "rank") == "2"
    assert 'id="ev-figures"' not in html


def test_a_bad_period_or_level_is_shown_in_place(client, cast):
    response = signed_in(client, cast.supervisor).get(RANKINGS, {"period": "2026-13", "level": "city"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the month as YYYY-MM" in html and "The level is department or street." in html
    assert 'aria-invalid="true"' in html and 'id="ev-ranking"' not in html


# Statistics --------------------------------------------------------------------------------


def test_the_statistics_show_counts_rates_heat_map_and_grid_workers(client, cast, march):
    html = signed_in(client, cast.supervisor).get(STATISTICS, {"period": "2026-03"}).content.decode()

    counts = {
        row.key: row.count for row in statistics.whistle_counts(district=cast.district, period=MARCH, by="street")
    }
    assert counts == {"S01": 2, "S02": 1}
    assert cell(html, 'data-key="S01"', "count") == "2" and cell(html, 'data-key="S02"', "count") == "1"
    rates = {row.unit.code: row for row in statistics.street_whistle_rates(district=cast.district, period=MARCH)}
    assert cell(html, 'data-unit="S01"', "whistles", table="ev-rates-table") == "2"
    assert cell(html, 'data-unit="S01"', "rate", table="ev-rates-table").startswith(f"{rates['S01'].rate:.2f}")
    assert 'id="ev-heatmap-table"' in html and 'data-ev-chart="heatmap"' in html
    assert cell(html, 'data-user="s02_grid"', "reports") == "1"


def test_counting_by_day_draws_a_trend_line(client, cast, march):
    html = signed_in(client, cast.supervisor).get(STATISTICS, {"period": "2026-03", "by": "day"}).content.decode()

    assert cell(html, 'data-key="2026-03-02"', "count") == "3"
    assert '"kind": "line"' in html
    # 31 days, 25 a page: the table is paginated, the chart has them all.
    assert "Page 1 of 2" in html and '"2026-03-31"' in html


def test_a_bad_dimension_is_shown_in_place(client, cast):
    response = signed_in(client, cast.supervisor).get(STATISTICS, {"by": "planet"})

    assert response.status_code == 400
    assert "Count by one of" in response.content.decode()


# High-frequency problems -------------------------------------------------------------------


def test_the_problems_show_the_rows_with_rising_flags(client, cast, march):
    html = signed_in(client, cast.supervisor).get(PROBLEMS, {"period": "2026-03"}).content.decode()

    row = f'data-category="{cast.compound.code}" data-street="S01"'
    assert cell(html, row, "count") == "2" and cell(html, row, "previous") == "0"
    assert "rising" in cell(html, row, "rising")
    assert 'hx-boost="true"' in html and "Adopt as problem of the month" in html


def test_a_supervisor_adopts_a_problem_of_the_month(client, cast, march):
    client = signed_in(client, cast.supervisor)
    data = {"period": "2026-03", "area": "street", "category": cast.compound.code, "street": "S01", "community": ""}

    response = client.post(ADOPT, data)

    assert response.status_code == 302 and response["Location"].startswith(PROBLEMS)
    topic = ProblemTopic.objects.get()
    assert topic.street == cast.s01 and topic.whistles.count() == 2
    html = client.get(response["Location"]).content.decode()
    assert "is the problem of the month 2026-03" in html
    assert f'data-topic="{topic.pk}"' in html and cell(html, f'data-topic="{topic.pk}"', "linked") == "2"
    assert "2026-03: <strong>2</strong>" in html


def test_adopting_twice_is_a_conflict_shown_on_the_page(client, cast, march):
    client = signed_in(client, cast.supervisor)
    data = {"period": "2026-03", "area": "street", "category": cast.compound.code, "street": "S01", "community": ""}
    client.post(ADOPT, data)

    again = client.post(ADOPT, data)

    assert again.status_code == 409
    assert "is the problem of the month 2026-03 already" in again.content.decode()
    assert ProblemTopic.objects.count() == 1


def test_a_bad_title_is_shown_on_its_row(client, cast, march):
    data = {"period": "2026-03", "category": cast.compound.code, "street": "S01", "title": "x" * 201}

    response = signed_in(client, cast.supervisor).post(ADOPT, data)

    assert response.status_code == 400
    row = re.search(
        rf'<tr data-category="{cast.compound.code}" data-street="S01">.*?</tr>', response.content.decode(), re.S
    )
    assert "At most 200 characters" in row[0] and "ev-adopt-error" in row[0]
    assert not ProblemTopic.objects.exists()


def test_a_bad_month_in_the_adopt_form_is_shown_not_a_500(client, cast, march):
    response = signed_in(client, cast.supervisor).post(
        ADOPT, {"period": "2026-13", "category": cast.compound.code, "street": "S01"}
    )

    assert response.status_code == 400
    assert "Give the month as YYYY-MM" in response.content.decode()


# Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, REPORT, EXPORT.format("rates")])
@pytest.mark.parametrize("who", ["d13_staff", "s01_staff"])
def test_the_pages_are_for_supervisors_only(client, cast, path, who):
    response = signed_in(client, getattr(cast, who)).get(path)

    assert response.status_code == 403
    assert "Only supervisors may open this page." in response.content.decode()


@pytest.mark.parametrize("who", ["d13_staff", "s01_staff"])
def test_only_supervisors_adopt(client, cast, march, who):
    response = signed_in(client, getattr(cast, who)).post(
        ADOPT, {"period": "2026-03", "category": cast.compound.code, "street": "S01"}
    )

    assert response.status_code == 403 and not ProblemTopic.objects.exists()


def test_the_evaluation_tab_is_in_the_supervision_nav(client, cast):
    html = signed_in(client, cast.supervisor).get("/supervision/").content.decode()

    assert 'href="/supervision/evaluation/"' in html


# Downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "query", "header"),
    [
        ("rates", {"level": "street"}, "response rate"),
        ("ratings", {}, "joint-meeting absences"),
        ("statistics", {"by": "category"}, "whistles"),
        ("whistle-rates", {}, "whistle rate"),
        ("high-frequency", {"area": "community"}, "rising"),
        ("topics", {}, "linked whistles"),
        ("grid-workers", {}, "reports"),
    ],
)
def test_every_table_downloads_as_excel_and_csv(client, cast, march, table, query, header):
    client = signed_in(client, cast.supervisor)

    xlsx = client.get(EXPORT.format(table), {"period": "2026-03", **query, "format": "xlsx"})
    as_csv = client.get(EXPORT.format(table), {"period": "2026-03", **query, "format": "csv"})

    assert xlsx.status_code == 200 and xlsx["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert header in [c.value for c in sheet[1]]
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert header in next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))


def test_the_pages_link_their_downloads_and_the_monthly_report(client, cast, march):
    client = signed_in(client, cast.supervisor)
    html = client.get(RANKINGS, {"period": "2026-03"}).content.decode()

    assert 'href="/supervision/evaluation/export/rates/?period=2026-03&amp;level=department&amp;format=xlsx"' in html
    assert 'href="/supervision/evaluation/report/?period=2026-03"' in html
    report = client.get(REPORT, {"period": "2026-03"})
    assert report.status_code == 200 and report["Content-Type"] == XLSX
    assert load_workbook(io.BytesIO(report.content)).sheetnames[0] == "Cover"


def test_a_bad_download_is_a_400_page(client, cast):
    client = signed_in(client, cast.supervisor)

    assert client.get(EXPORT.format("rates"), {"format": "pdf"}).status_code == 400
    assert client.get(EXPORT.format("rates"), {"period": "March"}).status_code == 400
    assert client.get(EXPORT.format("payroll")).status_code == 400


# Query counts ------------------------------------------------------------------------------

# Sign-in and session, district and nav, then the selectors: a fixed handful each (the tally counted
# again at every reading in these tests, EVALUATION_TALLY_MAX_AGE_S = 0).
QUERIES = {RANKINGS: 33, STATISTICS: 15, PROBLEMS: 10}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("extra", [0, 12])
def test_a_page_costs_the_same_queries_however_many_rows(client, cast, django_assert_num_queries, path, extra):
    raise_march(cast, extra=extra)
    client = signed_in(client, cast.supervisor)
    client.get(path, {"period": "2026-03"})  # the session, the tally's first count

    with django_assert_num_queries(QUERIES[path]):
        response = client.get(path, {"period": "2026-03"})

    assert response.status_code == 200

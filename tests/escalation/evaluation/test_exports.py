"""The export module: every table to Excel and CSV, headers in the active language, "—" for no value."""

import csv
import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from escalation import exports
from escalation.evaluation import DEPARTMENT, STREET, Period, department_figures, ranking
from escalation.statistics import grid_workers, high_frequency, street_whistle_rates, whistle_counts
from tests.escalation.evaluation.facts import at, callback, close, task, whistle

MARCH = Period.month(2026, 3)
AFTER = at("2026-04-10 12:00")


@pytest.fixture
def march(cast):
    case = whistle(cast)
    task(case, cast.d13, due="2026-03-02 10:00", acknowledged="2026-03-02 09:00")
    task(whistle(cast), cast.d13, due="2026-03-03 10:00", acknowledged="2026-03-03 11:00")
    close(case, "2026-03-05 10:00")
    callback(cast, case, "2026-03-06 10:00", satisfaction="basically_satisfied")
    return case


def read_xlsx(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.values)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Chinese
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_ranking_table_in_excel_and_csv_with_a_dash_for_no_value(cast, march):
    table = exports.ranking_table(ranking(district=cast.district, period=MARCH, level=DEPARTMENT, now=AFTER))

    sheet = read_xlsx(exports.xlsx_bytes([table]))
    rows = read_csv(exports.csv_bytes(table))

    assert sheet[0] == tuple(table.headers()) and rows[0] == table.headers()
    assert table.headers()[:4] == ["rank", "code", "department", "response rate"]
    d13_sheet, d13_csv = sheet[1], rows[1]
    assert d13_sheet[:7] == (1, "D13", "区城市管理委员会", 0.5, 1, 2, 1.0)
    assert d13_csv[:7] == ["1", "D13", "区城市管理委员会", "50.00%", "1", "2", "100.00%"]
    assert d13_csv[12] == "85.00"  # score: 30 × 0.5 + 40 × 1 + 30 × 1
    e06_sheet, e06_csv = sheet[3], rows[3]
    assert e06_sheet[0] == "—" and e06_sheet[3] == "—" and e06_sheet[12] == "—"
    assert e06_csv[0] == "—" and e06_csv[3] == "—" and e06_csv[4] == "0"
    percent = load_workbook(io.BytesIO(exports.xlsx_bytes([table]))).active["D2"]
    assert percent.number_format == "0.00%"


def test_headers_are_chinese_by_default_and_english_in_english(cast, march):
    result = ranking(district=cast.district, period=MARCH, level=STREET, now=AFTER)

    with translation.override("zh-hans"):
        chinese = read_csv(exports.csv_bytes(exports.ranking_table(result)))[0]
        chinese_sheet = read_xlsx(exports.xlsx_bytes([exports.counts_table([], by="grid")]))[0]
    with translation.override("en"):
        english = read_csv(exports.csv_bytes(exports.ranking_table(result)))[0]

    assert chinese[1:3] == ["编码", "街道"] and english[1:3] == ["code", "street"]
    assert chinese_sheet == ("编码", "网格", "街道", "吹哨事项")
    assert len(chinese) == len(english) == 17


@pytest.mark.parametrize(
    "make",
    [
        lambda cast: exports.figures_table(department_figures(district=cast.district, period=MARCH)),
        lambda cast: exports.street_rates_table(street_whistle_rates(district=cast.district, period=MARCH)),
        lambda cast: exports.counts_table(whistle_counts(district=cast.district, period=MARCH, by="day"), by="day"),
        lambda cast: exports.high_frequency_table(
            high_frequency(district=cast.district, period=MARCH, area="community"), area="community"
        ),
        lambda cast: exports.grid_workers_table(grid_workers(district=cast.district, period=MARCH)),
    ],
)
def test_every_table_reads_back_from_both_formats(cast, march, make):
    table = make(cast)

    sheet, rows = read_xlsx(exports.xlsx_bytes([table])), read_csv(exports.csv_bytes(table))

    assert list(sheet[0]) == rows[0] == table.headers()
    assert len(sheet) == len(rows) == len(table.rows) + 1


def test_the_monthly_report_has_a_cover_and_one_sheet_per_table(cast, march):
    content = exports.monthly_report(district=cast.district, period=MARCH, now=AFTER)

    workbook = load_workbook(io.BytesIO(content))
    cover = list(workbook["Cover"].values)
    assert workbook.sheetnames == [
        "Cover",
        "Three rates departments",
        "Three rates streets",
        "Ratings and side figures",
        "Whistle rates of the streets",
        "Whistles by category",
        "Whistles by community",
        "Whistles by source",
        "Whistles by grade",
        "Whistles by day",
        "Frequent problems by street",
        "Frequent problems by community",
        "Problems of the month",
        "Grid workers",
    ]
    assert cover[0] == ("Monthly evaluation report", None)
    assert ("Period", "2026-03") in cover and ("Compared with", "2026-02") in cover
    assert ("From", "2026-03-01") in cover and ("To", "2026-03-31") in cover
    assert [row for row in cover if row[0] in ("response rate", "resolution rate", "satisfaction rate")][:3] == [
        ("response rate", 30),
        ("resolution rate", 40),
        ("satisfaction rate", 30),
    ]
    score = next(row[1] for row in cover if row[0] == "score")
    assert "30 × response rate + 40 × resolution rate + 30 × satisfaction rate" in score
    departments = list(workbook["Three rates departments"].values)
    assert departments[1][:2] == (1, "D13")


def test_a_sheet_title_is_cut_to_excels_limit_and_kept_unique():
    taken: set[str] = set()

    first = exports._sheet_title("A very long title: with [forbidden] characters*?", taken)
    second = exports._sheet_title("A very long title: with [forbidden] characters*?", taken)

    assert first == "A very long title with forbidde" and len(first) == 31
    assert second.endswith(" (2)") and len(second) <= 31

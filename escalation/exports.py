"""Every evaluation table as Excel (openpyxl) or CSV, and the monthly report workbook.

A table is built from what the selectors return (escalation.evaluation,
escalation.statistics) as columns with gettext headers — Chinese by default,
English when the active language is — and rows of plain values. Rates are
fractions: Excel cells hold the number with a percentage format, CSV cells
the percentage as text; a missing value (a rate with a zero denominator, a
unit without a rank) is "—" in both, never 0. CSV is UTF-8 with a byte-order
mark, which Excel needs to read Chinese. The monthly report is one workbook:
a cover sheet with the district, the period, the weights and the formulas,
then one sheet per table.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from escalation import evaluation, statistics
from escalation.evaluation import DEPARTMENT, STREET, Ranking, Ratio
from escalation.models import ProblemTopic
from escalation.periods import Period
from escalation.topics import topic_list
from grids.models import District

DASH = "—"
XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)
CONTENT_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
}
TEXT, INTEGER, RATE, SCORE, NUMBER = "text", "integer", "rate", "score", "number"
SHEET_TITLE_MAX = 31  # Excel's limit
SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    key: str
    header: object  # a lazy gettext string, rendered in the language active when the file is written
    kind: str = TEXT


@dataclass
class Table:
    name: str  # for file names: ASCII
    title: object  # the sheet's title (lazy gettext)
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def headers(self) -> list[str]:
        return [str(column.header) for column in self.columns]


def _rate(ratio: Ratio) -> float | None:
    return ratio.rate


# Tables ------------------------------------------------------------------------------------


def ranking_table(ranking: Ranking) -> Table:
    unit = gettext_lazy("department") if ranking.level == DEPARTMENT else gettext_lazy("street")
    columns = [
        Column("rank", gettext_lazy("rank"), INTEGER),
        Column("code", gettext_lazy("code")),
        Column("name", unit),
        Column("response_rate", gettext_lazy("response rate"), RATE),
        Column("acknowledged_on_time", gettext_lazy("acknowledged on time"), INTEGER),
        Column("acknowledgements_due", gettext_lazy("acknowledgements due"), INTEGER),
        Column("resolution_rate", gettext_lazy("resolution rate"), RATE),
        Column("judged_solved", gettext_lazy("judged solved"), INTEGER),
        Column("closed", gettext_lazy("whistles closed"), INTEGER),
        Column("satisfaction_rate", gettext_lazy("satisfaction rate"), RATE),
        Column("satisfied", gettext_lazy("satisfied or basically satisfied"), INTEGER),
        Column("rated", gettext_lazy("callbacks rated"), INTEGER),
        Column("score", gettext_lazy("score"), SCORE),
        Column("previous_rank", gettext_lazy("previous rank"), INTEGER),
        Column("rank_change", gettext_lazy("rank change"), INTEGER),
        Column("previous_score", gettext_lazy("previous score"), SCORE),
        Column("score_change", gettext_lazy("score change"), SCORE),
    ]
    rows = [
        {
            "rank": row.rank,
            "code": row.unit.code,
            "name": row.unit.name,
            "response_rate": row.rates.response.rate,
            "acknowledged_on_time": row.rates.response.numerator,
            "acknowledgements_due": row.rates.response.denominator,
            "resolution_rate": row.rates.resolution.rate,
            "judged_solved": row.rates.resolution.numerator,
            "closed": row.rates.resolution.denominator,
            "satisfaction_rate": row.rates.satisfaction.rate,
            "satisfied": row.rates.satisfaction.numerator,
            "rated": row.rates.satisfaction.denominator,
            "score": row.score,
            "previous_rank": row.previous_rank,
            "rank_change": row.rank_change,
            "previous_score": row.previous_score,
            "score_change": row.score_change,
        }
        for row in ranking.rows
    ]
    title = (
        gettext_lazy("Three rates: departments")
        if ranking.level == DEPARTMENT
        else gettext_lazy("Three rates: streets")
    )
    return Table(f"rates-{ranking.level}", title, columns, rows)


def figures_table(figures: list[evaluation.DepartmentFigures]) -> Table:
    columns = [
        Column("code", gettext_lazy("code")),
        Column("name", gettext_lazy("department")),
        Column("ratings", gettext_lazy("ratings"), INTEGER),
        Column("response", gettext_lazy("response (average)"), NUMBER),
        Column("attitude", gettext_lazy("attitude (average)"), NUMBER),
        Column("result", gettext_lazy("result (average)"), NUMBER),
        Column("overall", gettext_lazy("overall (average)"), NUMBER),
        Column("meeting_absences", gettext_lazy("joint-meeting absences"), INTEGER),
        Column("overdue_acknowledge", gettext_lazy("overdue acknowledgements"), INTEGER),
        Column("overdue_checkin", gettext_lazy("overdue check-ins"), INTEGER),
        Column("overdue_resolve", gettext_lazy("overdue resolutions"), INTEGER),
        Column("overdue", gettext_lazy("overdue in all"), INTEGER),
        Column("returns", gettext_lazy("tasks returned"), INTEGER),
        Column("closed_on_time_rate", gettext_lazy("closed on time"), RATE),
        Column("supervision_orders", gettext_lazy("supervision orders"), INTEGER),
        Column("accountability_records", gettext_lazy("accountability records"), INTEGER),
    ]
    rows = [
        {
            "code": row.unit.code,
            "name": row.unit.name,
            "ratings": row.ratings,
            "response": row.response,
            "attitude": row.attitude,
            "result": row.result,
            "overall": row.overall,
            "meeting_absences": row.meeting_absences,
            "overdue_acknowledge": row.overdue_acknowledge,
            "overdue_checkin": row.overdue_checkin,
            "overdue_resolve": row.overdue_resolve,
            "overdue": row.overdue,
            "returns": row.returns,
            "closed_on_time_rate": row.closed_on_time.rate,
            "supervision_orders": row.supervision_orders,
            "accountability_records": row.accountability_records,
        }
        for row in figures
    ]
    return Table("ratings", gettext_lazy("Ratings and side figures"), columns, rows)


BY_HEADERS = {
    "street": gettext_lazy("street"),
    "community": gettext_lazy("community"),
    "grid": gettext_lazy("grid"),
    "category": gettext_lazy("category"),
    "source": gettext_lazy("source"),
    "grade": gettext_lazy("grade"),
    "day": gettext_lazy("date"),
    "week": gettext_lazy("week"),
    "month": gettext_lazy("month"),
}
BY_TITLES = {
    "street": gettext_lazy("Whistles by street"),
    "community": gettext_lazy("Whistles by community"),
    "grid": gettext_lazy("Whistles by grid"),
    "category": gettext_lazy("Whistles by category"),
    "source": gettext_lazy("Whistles by source"),
    "grade": gettext_lazy("Whistles by grade"),
    "day": gettext_lazy("Whistles by day"),
    "week": gettext_lazy("Whistles by week"),
    "month": gettext_lazy("Whistles by month"),
}


def counts_table(rows: list[statistics.CountRow], *, by: str) -> Table:
    columns = [Column("key", gettext_lazy("code")), Column("name", BY_HEADERS[by])]
    if by in ("community", "grid"):
        columns.append(Column("street", gettext_lazy("street")))
    columns.append(Column("count", gettext_lazy("whistles"), INTEGER))
    data = [{"key": row.key, "name": row.name, "street": row.street, "count": row.count} for row in rows]
    return Table(f"whistles-by-{by}", BY_TITLES[by], columns, data)


def flag_label(flag: str) -> str:
    return {statistics.TOO_LOW: _("too low"), statistics.TOO_HIGH: _("too high")}.get(flag, "")


def basis_label(basis: str) -> str:
    return {statistics.RESIDENTS: _("per 10,000 residents"), statistics.GRID: _("per grid")}.get(basis, "")


def street_rates_table(rows: list[statistics.StreetRate]) -> Table:
    columns = [
        Column("code", gettext_lazy("code")),
        Column("name", gettext_lazy("street")),
        Column("whistles", gettext_lazy("whistles"), INTEGER),
        Column("population", gettext_lazy("population"), INTEGER),
        Column("grids", gettext_lazy("grids"), INTEGER),
        Column("basis", gettext_lazy("whistle rate basis")),
        Column("rate", gettext_lazy("whistle rate"), NUMBER),
        Column("median", gettext_lazy("district median"), NUMBER),
        Column("flag", gettext_lazy("flag")),
    ]
    data = [
        {
            "code": row.unit.code,
            "name": row.unit.name,
            "whistles": row.whistles,
            "population": row.population,
            "grids": row.grids,
            "basis": basis_label(row.basis),
            "rate": row.rate,
            "median": row.median,
            "flag": flag_label(row.flag),
        }
        for row in rows
    ]
    return Table("whistle-rates", gettext_lazy("Whistle rates of the streets"), columns, data)


def high_frequency_table(rows: list[statistics.HighFrequencyRow], *, area: str) -> Table:
    columns = [
        Column("category_code", gettext_lazy("code")),
        Column("category", gettext_lazy("category")),
        Column("street", gettext_lazy("street")),
    ]
    if area == "community":
        columns.append(Column("community", gettext_lazy("community")))
    columns += [
        Column("count", gettext_lazy("whistles"), INTEGER),
        Column("previous", gettext_lazy("previous period"), INTEGER),
        Column("change", gettext_lazy("change"), INTEGER),
        Column("rising", gettext_lazy("rising")),
        Column("topic", gettext_lazy("problem of the month")),
    ]
    data = [
        {
            "category_code": row.category.code,
            "category": row.category.name,
            "street": row.street.name,
            "community": row.community.name if row.community else None,
            "count": row.count,
            "previous": row.previous,
            "change": row.change,
            "rising": _("yes") if row.rising else _("no"),
            "topic": _("adopted") if row.topic else "",
        }
        for row in rows
    ]
    title = (
        gettext_lazy("Frequent problems by street")
        if area == "street"
        else gettext_lazy("Frequent problems by community")
    )
    return Table(f"high-frequency-{area}", title, columns, data)


def topics_table(topics: list[ProblemTopic], trends: dict[int, list[statistics.TrendPoint]]) -> Table:
    months = sorted({point.month for points in trends.values() for point in points})
    columns = [
        Column("month", gettext_lazy("month")),
        Column("title", gettext_lazy("title")),
        Column("category", gettext_lazy("category")),
        Column("area", gettext_lazy("area")),
        Column("linked", gettext_lazy("linked whistles"), INTEGER),
        Column("adopted_by", gettext_lazy("adopted by")),
        *(Column(f"m{month}", month, INTEGER) for month in months),
    ]
    data = []
    for topic in topics:
        counts = {point.month: point.count for point in trends.get(topic.pk, [])}
        area = topic.community or topic.street
        data.append(
            {
                "month": f"{topic.period:%Y-%m}",
                "title": topic.title,
                "category": topic.category.name,
                "area": area.name if area else _("the whole district"),
                "linked": getattr(topic, "linked", None),
                "adopted_by": topic.adopted_by.get_full_name() or topic.adopted_by.get_username(),
                **{f"m{month}": counts.get(month) for month in months},
            }
        )
    return Table("topics", gettext_lazy("Problems of the month"), columns, data)


def grid_workers_table(rows: list[statistics.GridWorkerRow]) -> Table:
    columns = [
        Column("username", gettext_lazy("user name")),
        Column("name", gettext_lazy("grid worker")),
        Column("street", gettext_lazy("street")),
        Column("grids", gettext_lazy("grids"), INTEGER),
        Column("reports", gettext_lazy("reports"), INTEGER),
        Column("became_whistles", gettext_lazy("became whistles"), INTEGER),
        Column("became_share", gettext_lazy("share that became whistles"), RATE),
        Column("merged", gettext_lazy("merged as duplicates"), INTEGER),
        Column("closed", gettext_lazy("whistles closed"), INTEGER),
        Column("timely", gettext_lazy("closed on time"), INTEGER),
        Column("timely_rate", gettext_lazy("timeliness"), RATE),
    ]
    data = [
        {
            "username": row.username,
            "name": row.name,
            "street": row.street.name if row.street else None,
            "grids": row.grids,
            "reports": row.reports,
            "became_whistles": row.became_whistles,
            "became_share": row.became_share,
            "merged": row.merged,
            "closed": row.closed.denominator,
            "timely": row.closed.numerator,
            "timely_rate": row.closed.rate,
        }
        for row in rows
    ]
    return Table("grid-workers", gettext_lazy("Grid workers"), columns, data)


# Writing -----------------------------------------------------------------------------------


def _csv_value(value, kind: str) -> str:
    if value is None:
        return DASH
    if kind == RATE:
        return f"{value * 100:.2f}%"
    if kind == SCORE:
        return f"{value:.2f}"
    return str(value)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV, UTF-8 with a byte-order mark (so Excel reads the Chinese), headers first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers())
    for row in table.rows:
        writer.writerow([_csv_value(row.get(column.key), column.kind) for column in table.columns])
    return out.getvalue().encode("utf-8-sig")


NUMBER_FORMATS = {RATE: "0.00%", SCORE: "0.00", NUMBER: "0.00"}


def _sheet_title(title, taken: set[str]) -> str:
    text = " ".join(str(title).translate(SHEET_FORBIDDEN).split())[:SHEET_TITLE_MAX] or "Sheet"
    candidate, n = text, 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate, n = text[: SHEET_TITLE_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _write_table(sheet, table: Table) -> None:
    bold = Font(bold=True)
    sheet.append(table.headers())
    for cell in sheet[1]:
        cell.font = bold
    for row in table.rows:
        sheet.append([DASH if row.get(c.key) is None else row.get(c.key) for c in table.columns])
    for index, column in enumerate(table.columns, start=1):
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if cell.value != DASH:
                    cell.number_format = number_format
        width = max([len(str(column.header))] + [len(str(row.get(column.key) or "")) for row in table.rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width * 1.6 + 2), 60)
    sheet.freeze_panes = "A2"


def xlsx_bytes(tables: list[Table], *, cover: list[list] | None = None) -> bytes:
    """A workbook with one sheet per table, behind a cover sheet when given (rows of cells)."""
    workbook = Workbook()
    taken: set[str] = set()
    first = workbook.active
    if cover is not None:
        first.title = _sheet_title(_("Cover"), taken)
        for line in cover:
            first.append([cell if cell is None or isinstance(cell, (int, float)) else str(cell) for cell in line])
        first["A1"].font = Font(bold=True, size=14)
        first.column_dimensions["A"].width = 24
        first.column_dimensions["B"].width = 100
        for (cell,) in first.iter_rows(min_col=2, max_col=2):
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheets = [workbook.create_sheet() for _table in tables]
    else:
        sheets = [first] + [workbook.create_sheet() for _table in tables[1:]]
    for sheet, table in zip(sheets, tables, strict=True):
        sheet.title = _sheet_title(table.title, taken)
        _write_table(sheet, table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def file_response(table: Table, *, fmt: str, period: Period, district: District | None = None) -> HttpResponse:
    """The table as an xlsx or csv download, named after the table, the district and the period."""
    content = xlsx_bytes([table]) if fmt == XLSX else csv_bytes(table)
    return download(content, fmt=fmt, filename=_filename(table.name, district, period, fmt))


def download(content: bytes, *, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(name: str, district: District | None, period: Period, fmt: str) -> str:
    # ASCII only: codes and dates, so that every browser keeps the name as it is.
    code = "".join(c for c in (district.code if district else "") if c.isascii() and (c.isalnum() or c in "-_"))
    return "-".join(part for part in ("evaluation", code, name, period.slug) if part) + f".{fmt}"


# The monthly report ------------------------------------------------------------------------


def monthly_report_tables(*, district: District, period: Period, now: datetime) -> tuple[list[list], list[Table]]:
    """The cover sheet's rows and every table of the report, in order."""
    departments = evaluation.ranking(district=district, period=period, level=DEPARTMENT, now=now)
    streets = evaluation.ranking(district=district, period=period, level=STREET, now=now)
    topics = list(topic_list(district=district, period=period))
    tables = [
        ranking_table(departments),
        ranking_table(streets),
        figures_table(evaluation.department_figures(district=district, period=period)),
        street_rates_table(statistics.street_whistle_rates(district=district, period=period)),
        *(
            counts_table(statistics.whistle_counts(district=district, period=period, by=by), by=by)
            for by in ("category", "community", "source", "grade", "day")
        ),
        high_frequency_table(statistics.high_frequency(district=district, period=period, area="street"), area="street"),
        high_frequency_table(
            statistics.high_frequency(district=district, period=period, area="community"), area="community"
        ),
        topics_table(topics, statistics.topic_trends(topics, until=period)),
        grid_workers_table(statistics.grid_workers(district=district, period=period)),
    ]
    weights = departments.weights
    cover = [
        [_("Monthly evaluation report")],
        [],
        [_("District"), district.name],
        [_("Period"), period.label],
        [_("From"), period.first.isoformat()],
        [_("To"), period.last.isoformat()],
        [_("Compared with"), departments.previous.label],
        [_("Generated at"), timezone.localtime(now, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")],
        [],
        [_("Weights")],
        [_("response rate"), weights.response],
        [_("resolution rate"), weights.resolution],
        [_("satisfaction rate"), weights.satisfaction],
        [_("defaults") if weights.is_default else _("set by an administrator"), ""],
        [],
        [_("Formulas")],
        *([label, text] for label, text in zip(_formula_labels(), departments.formulas.values(), strict=True)),
        [],
        [_("Whistle rate"), _whistle_rate_rule()],
        [],
        [_("Sheets")],
        *([str(table.title)] for table in tables),
    ]
    return cover, tables


def _formula_labels() -> list[str]:
    return [_("response rate"), _("resolution rate"), _("satisfaction rate"), _("score"), _("rank")]


def _whistle_rate_rule() -> str:
    return _(
        "Whistles per %(per)s residents where the population is known, else per grid; below %(low)d %% of the "
        "district median is too low, above %(high)d %% of it too high."
    ) % {
        "per": f"{statistics.PER_RESIDENTS:,}",
        "low": round(statistics.LOW_SHARE * 100),
        "high": round(statistics.HIGH_MULTIPLE * 100),
    }


def monthly_report(*, district: District, period: Period, now: datetime | None = None) -> bytes:
    """The monthly report workbook: the cover sheet, then one sheet per table."""
    cover, tables = monthly_report_tables(district=district, period=period, now=now or timezone.now())
    return xlsx_bytes(tables, cover=cover)


def monthly_report_response(*, district: District, period: Period, now: datetime | None = None) -> HttpResponse:
    content = monthly_report(district=district, period=period, now=now)
    return download(content, fmt=XLSX, filename=_filename("monthly-report", district, period, XLSX))

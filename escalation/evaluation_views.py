"""The supervisors' evaluation pages: rankings on the three rates, whistle statistics, high-frequency problems.

Each view finds the supervisor's district (escalation.permissions.evaluation_district:
anyone else gets the 403 page through config.views.html_errors), parses the
period and the choices of the page, calls the selectors of escalation.evaluation
and escalation.statistics, and renders: every table as HTML (readable without
JavaScript, long ones paginated in memory — the selectors return lists), its
numbers once more in a JSON script (`json_script`) that static/js/evaluation.js
draws with ECharts, and a link to the same table as Excel or CSV
(`evaluation_export`, escalation.exports). Bad input shows its message beside
the field, with HTTP 400, and no figures.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import Conflict, InvalidInput
from config.views import html_errors
from escalation import evaluation, exports, periods, statistics
from escalation.permissions import evaluation_district, sees_ledger, sees_orders, supervises
from escalation.topics import problem_topic_adopt, topic_list
from whistle.views import nav_context

PAGE_SIZE = 25
TOPICS_PAGE_SIZE = 10
TRENDS = ("day", "week", "month")
EXPORTS = ("rates", "ratings", "statistics", "whistle-rates", "high-frequency", "topics", "grid-workers")


def _nav(request) -> dict:
    return nav_context(request.user, "evaluation") | {
        "supervision_nav": {
            "current": "evaluation",
            "dashboard": supervises(request.user) or request.user.is_superuser,
            "orders": sees_orders(request.user),
            "ledger": sees_ledger(request.user),
        }
    }


def _parse(errors: dict, parser, *args, **kwargs):
    """The parser's answer, or None with its messages added to `errors` (so that every bad field is shown)."""
    try:
        return parser(*args, **kwargs)
    except InvalidInput as error:
        errors.update(error.fields)
        return None


def _period(request, errors: dict) -> periods.Period | None:
    query = request.GET
    return _parse(errors, periods.period_parse, period=query.get("period"), date_from=query.get("from"),
                  date_to=query.get("to"))  # fmt: skip


def _page(request, rows: list, *, param: str = "page", size: int = PAGE_SIZE) -> dict:
    """One page of an in-memory table, with the links to its neighbours (the other query parameters kept)."""
    page = Paginator(rows, size).get_page(request.GET.get(param))

    def link(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}"

    return {
        "page": page,
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


def _links(table: str, **query) -> dict[str, str]:
    """The table's Excel and CSV downloads, for the same period and choices as the page."""
    base = reverse("escalation:evaluation_export", args=(table,))
    query = {name: value for name, value in query.items() if value}
    return {fmt: f"{base}?{urlencode({**query, 'format': fmt})}" for fmt in exports.FORMATS}


def _period_query(period: periods.Period) -> dict:
    if period.is_month:
        return {"period": period.label}
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def _report_link(period: periods.Period) -> str:
    month = period if period.is_month else periods.Period.month(period.first.year, period.first.month)
    return f"{reverse('escalation:evaluation_report')}?{urlencode({'period': month.label})}"


def _common(request, district, period: periods.Period | None, errors: dict) -> dict:
    return {
        "district": district,
        "period": period,
        "errors": errors,
        "month_value": period.label if period is not None and period.is_month else request.GET.get("period", ""),
        "report_link": _report_link(period) if period is not None else "",
        **_nav(request),
    }


# Rankings ----------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def rankings(request):
    """The three rates, scores and ranks of the departments or streets, with ratings and side figures."""
    district = evaluation_district(request.user, request.GET.get("district"))
    errors: dict[str, list[str]] = {}
    period = _period(request, errors)
    level = _parse(errors, evaluation.level_parse, request.GET.get("level"))
    context = _common(request, district, period, errors) | {"level": level or evaluation.DEPARTMENT}
    if errors:
        return render(request, "escalation/evaluation/rankings.html", context, status=400)
    ranking = evaluation.ranking(district=district, period=period, level=level)
    figures = evaluation.department_figures(district=district, period=period) if level == evaluation.DEPARTMENT else []
    query = {**_period_query(period), "level": level}
    chart = {
        "ranking": {
            "title": _("Score"),
            "rows": [
                {"code": row.unit.code, "name": row.unit.name, "value": row.score}
                for row in ranking.rows
                if row.score is not None
            ],
        }
    }
    return render(
        request,
        "escalation/evaluation/rankings.html",
        context
        | {
            "ranking": ranking,
            "figures": figures,
            "rates_links": _links("rates", **query),
            "ratings_links": _links("ratings", **_period_query(period)),
            "chart_data": chart,
        },
    )


# Statistics --------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def statistics_page(request):
    """Whistles counted by a dimension (a trend for days, weeks, months), street whistle rates, heat map, grid workers."""
    district = evaluation_district(request.user, request.GET.get("district"))
    errors: dict[str, list[str]] = {}
    period = _period(request, errors)
    by = _parse(errors, statistics.by_parse, request.GET.get("by"))
    context = _common(request, district, period, errors) | {
        "by": by or "street",
        "by_choices": [(value, exports.BY_HEADERS[value]) for value in statistics.BY],
    }
    if errors:
        return render(request, "escalation/evaluation/statistics.html", context, status=400)
    counts = statistics.whistle_counts(district=district, period=period, by=by)
    rates = statistics.street_whistle_rates(district=district, period=period)
    heat = statistics.category_street_counts(district=district, period=period)
    workers = statistics.grid_workers(district=district, period=period)
    query = _period_query(period)
    chart = {
        "counts": {
            "kind": "line" if by in TRENDS else "bar",
            "title": str(exports.BY_TITLES[by]),
            "rows": [{"code": row.key or "", "name": row.name, "value": row.count} for row in counts],
        },
        "heatmap": {
            "title": _("Whistles by category and street"),
            "streets": [unit.name for unit in heat.streets],
            "categories": [unit.name for unit in heat.categories],
            "cells": heat.cells(),
        },
    }
    return render(
        request,
        "escalation/evaluation/statistics.html",
        context
        | {
            "counts": _page(request, counts),
            "total": sum(row.count for row in counts),
            "with_street": by in ("community", "grid"),
            "rates": rates,
            "heat": heat,
            "heat_rows": [
                (category, [heat.counts.get((category.pk, street.pk), 0) for street in heat.streets])
                for category in heat.categories
            ],
            "workers": _page(request, workers, param="workers_page"),
            "counts_links": _links("statistics", **query, by=by),
            "rates_links": _links("whistle-rates", **query),
            "workers_links": _links("grid-workers", **query),
            "thresholds": {
                "low": round(statistics.LOW_SHARE * 100),
                "high": round(statistics.HIGH_MULTIPLE * 100),
            },
            "chart_data": chart,
        },
    )


# High-frequency problems -------------------------------------------------------------------


def _problems_context(request, district, errors: dict, *, adopt: dict | None = None) -> tuple[dict, bool]:
    """The problems page's context; False when the period or area is bad (no figures then)."""
    source = request.POST if request.method == "POST" else request.GET
    period = _parse(errors, periods.period_parse, period=source.get("period"), date_from=source.get("from"),
                    date_to=source.get("to"))  # fmt: skip
    area = _parse(errors, statistics.area_parse, source.get("area"))
    context = _common(request, district, period, errors) | {"area": area or "street", "adopt": adopt or {}}
    if errors:
        return context, False
    rows = statistics.high_frequency(district=district, period=period, area=area, limit=statistics.HIGH_FREQUENCY_MAX)
    topics = _page(request, topic_list(district=district).order_by("-period", "-pk"), param="topics_page",
                   size=TOPICS_PAGE_SIZE)  # fmt: skip
    shown = list(topics["page"].object_list)
    trends = statistics.topic_trends(shown, until=max(period, periods.Period.current_month(), key=lambda p: p.first))
    query = _period_query(period)
    page = _page(request, rows)
    if adopt:  # the message goes on its row's form when that is on this page, else below the table
        adopt["shown"] = period.is_month and any(
            (row.category.code, row.street.code, row.community.code if row.community else "") == adopt["key"]
            for row in page["page"].object_list
            if not row.topic
        )
    context |= {
        "rows": page,
        "adoptable": period.is_month,
        "topics": topics,
        "topic_rows": [(topic, trends.get(topic.pk, [])) for topic in shown],
        "rows_links": _links("high-frequency", **query, area=area),
        "topics_links": _links("topics"),
        "period_query": query,
    }
    return context, True


@require_GET
@login_required
@html_errors
def problems(request):
    """Category × area combinations with the most whistles, rising or not; the adopted problems of the month."""
    district = evaluation_district(request.user, request.GET.get("district"))
    errors: dict[str, list[str]] = {}
    context, ok = _problems_context(request, district, errors)
    return render(request, "escalation/evaluation/problems.html", context, status=200 if ok else 400)


@require_POST
@login_required
@html_errors
def problem_adopt(request):
    """Adopt a row of the high-frequency problems as the problem of the month; its errors show on its row."""
    district = evaluation_district(request.user)
    data = {name: request.POST.get(name, "") for name in ("period", "category", "street", "community", "title")}
    try:
        topic = problem_topic_adopt(actor=request.user, **data)
    except (InvalidInput, Conflict) as error:
        adopt = {
            "key": (data["category"], data["street"], data["community"]),
            "message": error.message,
            "fields": error.fields,
            "title": data["title"],
        }
        context, _ok = _problems_context(request, district, {}, adopt=adopt)
        return render(request, "escalation/evaluation/problems.html", context, status=error.status)
    messages.success(
        request,
        _("“%(title)s” is the problem of the month %(month)s.") % {"title": topic.title, "month": data["period"]},
    )
    query = {"period": data["period"], "area": request.POST.get("area", "")}
    return redirect(f"{reverse('escalation:evaluation_problems')}?{urlencode({k: v for k, v in query.items() if v})}")


# Downloads ---------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def evaluation_export(request, table: str):
    """One table of the pages as Excel or CSV (?format=xlsx|csv), for the same period and choices."""
    if table not in EXPORTS:
        raise InvalidInput(fields={"table": [_("Unknown table %(name)s.") % {"name": table}]})
    district = evaluation_district(request.user, request.GET.get("district"))
    query = request.GET
    fmt = query.get("format", exports.XLSX)
    if fmt not in exports.FORMATS:
        raise InvalidInput(fields={"format": [_("The format is xlsx or csv.")]})
    if table == "topics":
        period = periods.Period.current_month()
        topics = list(topic_list(district=district).order_by("-period", "-pk"))
        return exports.file_response(
            exports.topics_table(topics, statistics.topic_trends(topics, until=period)),
            fmt=fmt,
            period=period,
            district=district,
        )
    period = periods.period_parse(period=query.get("period"), date_from=query.get("from"), date_to=query.get("to"))
    if table == "rates":
        level = evaluation.level_parse(query.get("level"))
        built = exports.ranking_table(evaluation.ranking(district=district, period=period, level=level))
    elif table == "ratings":
        built = exports.figures_table(evaluation.department_figures(district=district, period=period))
    elif table == "statistics":
        by = statistics.by_parse(query.get("by"))
        built = exports.counts_table(statistics.whistle_counts(district=district, period=period, by=by), by=by)
    elif table == "whistle-rates":
        built = exports.street_rates_table(statistics.street_whistle_rates(district=district, period=period))
    elif table == "high-frequency":
        area = statistics.area_parse(query.get("area"))
        rows = statistics.high_frequency(
            district=district, period=period, area=area, limit=statistics.HIGH_FREQUENCY_MAX
        )
        built = exports.high_frequency_table(rows, area=area)
    else:
        built = exports.grid_workers_table(statistics.grid_workers(district=district, period=period))
    return exports.file_response(built, fmt=fmt, period=period, district=district)


@require_GET
@login_required
@html_errors
def evaluation_report(request):
    """The monthly report workbook: a cover sheet with the period, weights and formulas, then every table."""
    district = evaluation_district(request.user, request.GET.get("district"))
    period = periods.month_parse(request.GET.get("period"))
    return exports.monthly_report_response(district=district, period=period, now=timezone.now())

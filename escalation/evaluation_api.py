"""The evaluation endpoints of the API (supervisors): three rates and rankings, ratings, statistics, topics, exports.

Each endpoint parses its query, finds the supervisor's district
(escalation.permissions.evaluation_district), calls one selector of
escalation.evaluation or escalation.statistics and renders it: as JSON, or
with `?format=xlsx` / `?format=csv` as a file (escalation.exports). Errors
are raised, never formatted here; they leave as JSON in the one error shape
whatever format was asked for.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorSerializer
from config.errors import InvalidInput
from escalation import evaluation, exports, periods, statistics
from escalation.evaluation_serializers import (
    FiguresSerializer,
    GridWorkersSerializer,
    HighFrequencySerializer,
    RankingSerializer,
    StatisticsSerializer,
    TopicAdoptSerializer,
    TopicListSerializer,
    TopicSerializer,
)
from escalation.permissions import evaluation_district
from escalation.topics import problem_topic_adopt, topic_list

# Renderers: the formats a request may ask for (?format=…); the files themselves are made by escalation.exports.


class _FileRenderer(BaseRenderer):
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class XlsxRenderer(_FileRenderer):
    media_type = exports.CONTENT_TYPES[exports.XLSX].split(";")[0]
    format = exports.XLSX


class CsvRenderer(_FileRenderer):
    media_type = "text/csv"
    format = exports.CSV


def _errors(*statuses: int) -> dict:
    # Errors are JSON whatever format was asked for (EvaluationView.finalize_response).
    return {(code, "application/json"): OpenApiResponse(ErrorSerializer) for code in statuses}


PERIOD_PARAMETERS = [
    OpenApiParameter("period", str, description="A month, YYYY-MM (default: this month, Asia/Shanghai)."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="Or a range: first day, YYYY-MM-DD (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (at most 366 days)."),
    OpenApiParameter("district", str, description="District code; administrators only (supervisors see their own)."),
]
FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", "xlsx", "csv"], description="json (default), or the table as an xlsx or csv file."
)


def _file_responses(serializer) -> dict:
    return {
        (200, "application/json"): serializer,
        (200, XlsxRenderer.media_type): OpenApiTypes.BINARY,
        (200, CsvRenderer.media_type): OpenApiTypes.STR,
        **_errors(400, 401, 403),
    }


class EvaluationView(APIView):
    """What every evaluation endpoint shares: the renderers, the district and the period."""

    renderer_classes = [JSONRenderer, XlsxRenderer, CsvRenderer]

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404:
            # An unknown ?format= is bad input naming the field, not a missing page.
            raise InvalidInput(fields={"format": [_("The format is json, xlsx or csv.")]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        # A file is an HttpResponse made by escalation.exports; a Response here is JSON, an error included.
        if isinstance(response, Response) and getattr(request, "accepted_renderer", None) is not None:
            if request.accepted_renderer.format in exports.FORMATS:
                request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    # Helpers for the endpoints.

    def district(self, request):
        return evaluation_district(request.user, request.query_params.get("district"))

    def period(self, request) -> periods.Period:
        query = request.query_params
        return periods.period_parse(period=query.get("period"), date_from=query.get("from"), date_to=query.get("to"))

    def file_format(self, request) -> str | None:
        fmt = request.accepted_renderer.format
        return fmt if fmt in exports.FORMATS else None

    def answer(self, request, *, serializer, body: dict, table=None, period=None, district=None):
        fmt = self.file_format(request)
        if fmt is not None and table is not None:
            return exports.file_response(table(), fmt=fmt, period=period, district=district)
        return Response(serializer(body).data)


def _weights(weights: evaluation.Weights) -> dict:
    return {
        **weights.as_dict(),
        "is_default": weights.is_default,
        "defaults": evaluation.DEFAULT_WEIGHTS.as_dict(),
    }


class RatesView(EvaluationView):
    @extend_schema(
        summary="Three rates (三率), composite score and ranking of the departments or streets, with the change "
        "against the previous period",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("level", str, enum=list(evaluation.LEVELS), description="department (default) or street."),
            FORMAT_PARAMETER,
        ],
        responses=_file_responses(RankingSerializer),
    )
    def get(self, request):
        district = self.district(request)
        period = self.period(request)
        level = evaluation.level_parse(request.query_params.get("level"))
        ranking = evaluation.ranking(district=district, period=period, level=level)
        body = {
            "district": district,
            "level": level,
            "counted_at": ranking.counted_at,
            "period": period,
            "previous": ranking.previous,
            "weights": _weights(ranking.weights),
            "formulas": ranking.formulas,
            "rows": ranking.rows,
        }
        return self.answer(
            request,
            serializer=RankingSerializer,
            body=body,
            table=lambda: exports.ranking_table(ranking),
            period=period,
            district=district,
        )


class RatingsView(EvaluationView):
    @extend_schema(
        summary="Departments' ratings by the streets (下对上) with their absences, overdues, returns, supervision "
        "orders and accountability records in the period",
        parameters=[*PERIOD_PARAMETERS, FORMAT_PARAMETER],
        responses=_file_responses(FiguresSerializer),
    )
    def get(self, request):
        district = self.district(request)
        period = self.period(request)
        figures = evaluation.department_figures(district=district, period=period)
        return self.answer(
            request,
            serializer=FiguresSerializer,
            body={"district": district, "period": period, "results": figures},
            table=lambda: exports.figures_table(figures),
            period=period,
            district=district,
        )


def _street_row(rate: statistics.StreetRate) -> dict:
    return {
        "key": rate.unit.code,
        "name": rate.unit.name,
        "count": rate.whistles,
        "street": "",
        "population": rate.population,
        "grids": rate.grids,
        "basis": rate.basis,
        "rate": rate.rate,
        "median": rate.median,
        "flag": rate.flag,
    }


class StatisticsView(EvaluationView):
    @extend_schema(
        summary="Whistles of the period counted by street (with each street's whistle rate and flags), "
        "community, grid, category, source, grade, day, week or month",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("by", str, enum=list(statistics.BY), description="What to count by; default street."),
            FORMAT_PARAMETER,
        ],
        responses=_file_responses(StatisticsSerializer),
    )
    def get(self, request):
        district = self.district(request)
        period = self.period(request)
        by = statistics.by_parse(request.query_params.get("by"))
        if by == "street":
            rates = statistics.street_whistle_rates(district=district, period=period)
            rows, table = [_street_row(rate) for rate in rates], lambda: exports.street_rates_table(rates)
        else:
            counted = statistics.whistle_counts(district=district, period=period, by=by)
            rows, table = counted, lambda: exports.counts_table(counted, by=by)
        body = {
            "district": district,
            "period": period,
            "by": by,
            "total": sum(row["count"] if isinstance(row, dict) else row.count for row in rows),
            "thresholds": {
                "per_residents": statistics.PER_RESIDENTS,
                "low_share": statistics.LOW_SHARE,
                "high_multiple": statistics.HIGH_MULTIPLE,
            },
            "results": rows,
        }
        return self.answer(
            request, serializer=StatisticsSerializer, body=body, table=table, period=period, district=district
        )


def _limit(value) -> int:
    if value in (None, ""):
        return statistics.HIGH_FREQUENCY_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= statistics.HIGH_FREQUENCY_MAX:
        raise InvalidInput(
            fields={"limit": [_("Give a whole number from 1 to %(max)d.") % {"max": statistics.HIGH_FREQUENCY_MAX}]}
        )
    return limit


def _flag(value, name: str) -> bool:
    if value in (None, "", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise InvalidInput(fields={name: [_("Give true or false.")]})


class HighFrequencyView(EvaluationView):
    @extend_schema(
        summary="High-frequency problems: category × street (or × community) with the most whistles in the period, "
        "and the previous period's count",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("area", str, enum=list(statistics.AREAS), description="street (default) or community."),
            OpenApiParameter("limit", int, description="How many rows (1–200, default 20)."),
            OpenApiParameter("rising", bool, description="Only the rows whose count grew."),
            FORMAT_PARAMETER,
        ],
        responses=_file_responses(HighFrequencySerializer),
    )
    def get(self, request):
        district = self.district(request)
        period = self.period(request)
        query = request.query_params
        area = statistics.area_parse(query.get("area"))
        limit = _limit(query.get("limit"))
        rising = _flag(query.get("rising"), "rising")
        rows = statistics.high_frequency(district=district, period=period, area=area, limit=limit, rising_only=rising)
        body = {
            "district": district,
            "period": period,
            "previous_period": period.previous(),
            "area": area,
            "results": rows,
        }
        return self.answer(
            request,
            serializer=HighFrequencySerializer,
            body=body,
            table=lambda: exports.high_frequency_table(rows, area=area),
            period=period,
            district=district,
        )


class TopicsView(EvaluationView):
    @extend_schema(
        summary="Problems of the month (每月一题) with their whistles month by month; of one month with `period`",
        parameters=[
            OpenApiParameter("period", str, description="Only the topics of this month, YYYY-MM."),
            OpenApiParameter("district", str, description="District code; administrators only."),
            FORMAT_PARAMETER,
        ],
        responses=_file_responses(TopicListSerializer),
    )
    def get(self, request):
        district = self.district(request)
        month = request.query_params.get("period")
        period = periods.month_parse(month) if month else None
        topics = list(topic_list(district=district, period=period))
        trends = statistics.topic_trends(topics, until=periods.Period.current_month())
        for topic in topics:
            topic.trend = trends.get(topic.pk, [])
        return self.answer(
            request,
            serializer=TopicListSerializer,
            body={"district": district, "results": topics},
            table=lambda: exports.topics_table(topics, trends),
            period=period or periods.Period.current_month(),
            district=district,
        )

    @extend_schema(
        summary="Adopt a high-frequency problem as the problem of the month and link its whistles (supervisors)",
        request=TopicAdoptSerializer,
        responses={(201, "application/json"): TopicSerializer, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        serializer = TopicAdoptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {name: serializer.validated_data.get(name, "") for name in serializer.fields}
        topic = problem_topic_adopt(actor=request.user, **data)
        topic = topic_list(district=topic.district).get(pk=topic.pk)
        topic.trend = statistics.topic_trends([topic], until=periods.Period.current_month()).get(topic.pk, [])
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)


class GridWorkersView(EvaluationView):
    @extend_schema(
        summary="Grid workers: reports made, the share that became whistles, and the on-time closing of their whistles",
        parameters=[*PERIOD_PARAMETERS, FORMAT_PARAMETER],
        responses=_file_responses(GridWorkersSerializer),
    )
    def get(self, request):
        district = self.district(request)
        period = self.period(request)
        rows = statistics.grid_workers(district=district, period=period)
        return self.answer(
            request,
            serializer=GridWorkersSerializer,
            body={"district": district, "period": period, "results": rows},
            table=lambda: exports.grid_workers_table(rows),
            period=period,
            district=district,
        )


class MonthlyReportView(EvaluationView):
    renderer_classes = [XlsxRenderer, JSONRenderer]

    @extend_schema(
        summary="The monthly report workbook: a cover sheet with the period, weights and formulas, then every table",
        parameters=[
            OpenApiParameter("period", str, description="The month, YYYY-MM (default: this month)."),
            OpenApiParameter("district", str, description="District code; administrators only."),
        ],
        responses={(200, XlsxRenderer.media_type): OpenApiTypes.BINARY, **_errors(400, 401, 403)},
    )
    def get(self, request):
        district = self.district(request)
        period = periods.month_parse(request.query_params.get("period"))
        return exports.monthly_report_response(district=district, period=period, now=timezone.now())

"""The supervisor endpoints of the API: the overdue dashboard, supervision orders (督办), the ledger (问责).

Each endpoint parses its input, finds the object through the user's scope
(404 when it is not visible), calls one service or selector and renders.
Errors are raised, never formatted here: config.api gives them their shape.
"""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ACTION_ERRORS, PageNumberPagination, error_responses
from config.errors import InvalidInput, NotAllowed, NotFound
from escalation import selectors
from escalation.forms import DashboardFilter
from escalation.models import AccountabilityRecord
from escalation.permissions import access_order, access_record, require_supervisor, sees_ledger, sees_orders
from escalation.serializers import (
    DashboardSerializer,
    OrderCloseSerializer,
    OrderDetailSerializer,
    OrderOpenSerializer,
    OrderReplySerializer,
    OrderSerializer,
    RecordDetailSerializer,
    RecordNoteInputSerializer,
    RecordSerializer,
)
from escalation.services import (
    accountability_annotate,
    open_tasks_tally_fresh,
    supervision_order_close,
    supervision_order_open,
    supervision_order_reply,
)
from whistle.permissions import access_task

ID = r"[0-9]{1,18}"


def _parsed(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    # A field left out is None for the optional times, "" for text.
    return {
        name: serializer.validated_data.get(name, None if getattr(field, "allow_null", False) else "")
        for name, field in serializer.fields.items()
    }


# The overdue dashboard ---------------------------------------------------------------------

DASHBOARD_PARAMETERS = [
    OpenApiParameter("created_from", OpenApiTypes.DATE, description="Tasks created on or after this local date."),
    OpenApiParameter("created_to", OpenApiTypes.DATE, description="Tasks created on or before this local date."),
    OpenApiParameter("street", str, description="Street code, e.g. S01."),
    OpenApiParameter("department", str, description="Department code, e.g. D13."),
    OpenApiParameter("grade", str, enum=["ordinary", "priority", "difficult"]),
    OpenApiParameter("category", str, description="Category code."),
    OpenApiParameter("light", str, enum=["yellow", "red"], description="Rows of one light only; counts show both."),
    OpenApiParameter("page", int, description="Page of the task rows."),
    OpenApiParameter("page_size", int, description="Task rows per page (at most 200)."),
]


class OverdueDashboardViewSet(viewsets.GenericViewSet):
    """The supervisors' overdue dashboard: counts per department and street, and the late tasks."""

    pagination_class = PageNumberPagination
    serializer_class = DashboardSerializer

    @extend_schema(
        summary="Warning and overdue tasks of your district: counts per department and street, and the rows",
        parameters=DASHBOARD_PARAMETERS,
        responses={200: DashboardSerializer, **error_responses(400, 401, 403)},
    )
    def overview(self, request):
        require_supervisor(request.user)
        now = timezone.now()
        filters = DashboardFilter(
            request.query_params, queryset=selectors.open_tasks(user=request.user, now=now), request=request
        )
        if not filters.is_valid():
            raise InvalidInput(fields={name: list(errors) for name, errors in filters.errors.items()})
        tasks = filters.qs
        counted_at = open_tasks_tally_fresh(now=now)
        counts = selectors.dashboard_counts(user=request.user, filters=filters.form.cleaned_data, counted_at=counted_at)
        rows = self.paginator.paginate_queryset(selectors.late_tasks(tasks, light=filters.light_value), request, self)
        body = {
            "counted_at": counted_at,
            "totals": _unit(counts.totals),
            "by_department": [_unit(row) for row in counts.by_department],
            "by_street": [_unit(row) for row in counts.by_street],
            "orders": selectors.order_counts(user=request.user, now=now),
            "accountability": selectors.record_counts(user=request.user),
            "tasks": {
                "count": self.paginator.page.paginator.count,
                "next": self.paginator.get_next_link(),
                "previous": self.paginator.get_previous_link(),
                "results": rows,
            },
        }
        return Response(DashboardSerializer(body).data)


def _unit(row: selectors.UnitCounts) -> dict:
    return {
        "code": row.code,
        "name": row.name,
        "open": row.open,
        "warning": row.warning,
        "overdue": row.overdue,
        "overdue_share": round(row.overdue_share, 4),
    }


# Supervision orders --------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(value, value) for value in selectors.ORDER_FILTERS],
        method="filter_status",
        help_text="open, answered, overdue (open past its reply-by time) or closed.",
    )

    def filter_status(self, queryset, name, value):
        # Applied by the selector (order_list), which also sorts by it.
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="Supervision orders you see: supervisors their district's, a department those on its tasks, "
        "a street those on its whistles'",
        responses={200: OrderSerializer, **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="One supervision order, with its task's log",
        responses={200: OrderDetailSerializer, **error_responses(401, 404)},
    ),
    create=extend_schema(
        summary="Issue a supervision order by hand (supervisors)",
        request=OrderOpenSerializer,
        responses={201: OrderDetailSerializer, **ACTION_ERRORS},
    ),
)
class SupervisionOrderViewSet(viewsets.GenericViewSet):
    lookup_value_regex = ID
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    pagination_class = PageNumberPagination
    serializer_class = OrderDetailSerializer

    input_serializers = {"create": OrderOpenSerializer, "reply": OrderReplySerializer, "close": OrderCloseSerializer}

    def get_queryset(self):
        status_filter = self.request.query_params.get("status", "")
        return selectors.order_list(
            user=self.request.user, status=status_filter if status_filter in selectors.ORDER_FILTERS else ""
        )

    def get_serializer_class(self):
        action_name = self.action_map.get(self.request.method.lower()) if self.action == "metadata" else self.action
        return self.input_serializers.get(action_name, OrderDetailSerializer)

    def list(self, request):
        if not sees_orders(request.user):
            raise NotAllowed(_("Your role has no supervision orders."))
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._detail(pk)

    def create(self, request):
        data = _parsed(OrderOpenSerializer, request.data)
        try:
            task = access_task(request.user, data.pop("task"))
        except NotFound as error:
            # An id in the body: bad input naming the field (and no hint whether the task exists).
            raise InvalidInput(fields={"task": [error.message]}) from None
        order = supervision_order_open(task=task, actor=request.user, **data)
        return self._detail(order.pk, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Answer the order (the task's department)",
        request=OrderReplySerializer,
        responses={200: OrderDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        data = _parsed(OrderReplySerializer, request.data)
        supervision_order_reply(order=access_order(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @extend_schema(
        summary="Close the order with a note (supervisors)",
        request=OrderCloseSerializer,
        responses={200: OrderDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = _parsed(OrderCloseSerializer, request.data)
        supervision_order_close(order=access_order(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    def _detail(self, pk, *, status: int = 200) -> Response:
        order = selectors.order_get(user=self.request.user, pk=pk)
        return Response(OrderDetailSerializer(order).data, status=status)


# The accountability ledger -------------------------------------------------------------------


class RecordFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AccountabilityRecord.Kind.choices)
    department = django_filters.CharFilter(field_name="department__code", help_text="Department code, e.g. D13.")

    class Meta:
        model = AccountabilityRecord
        fields = ["kind", "department"]


@extend_schema_view(
    list=extend_schema(
        summary="The accountability ledger: supervisors their district's records, a department its own",
        responses={200: RecordSerializer, **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="One accountability record, with its notes and events",
        responses={200: RecordDetailSerializer, **error_responses(401, 404)},
    ),
)
class AccountabilityViewSet(viewsets.GenericViewSet):
    lookup_value_regex = ID
    filter_backends = [DjangoFilterBackend]
    filterset_class = RecordFilter
    pagination_class = PageNumberPagination
    serializer_class = RecordDetailSerializer

    def get_queryset(self):
        return selectors.record_list(user=self.request.user)

    def get_serializer_class(self):
        action_name = self.action_map.get(self.request.method.lower()) if self.action == "metadata" else self.action
        return RecordNoteInputSerializer if action_name == "notes" else RecordDetailSerializer

    def list(self, request):
        if not sees_ledger(request.user):
            raise NotAllowed(_("Only supervisors and departments have an accountability ledger."))
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RecordSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(RecordDetailSerializer(selectors.record_get(user=request.user, pk=pk)).data)

    @extend_schema(
        summary="Annotate a record (supervisors); records are never changed or deleted",
        request=RecordNoteInputSerializer,
        responses={201: RecordDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        data = _parsed(RecordNoteInputSerializer, request.data)
        accountability_annotate(record=access_record(request.user, pk), actor=request.user, **data)
        record = selectors.record_get(user=request.user, pk=pk)
        return Response(RecordDetailSerializer(record).data, status=status.HTTP_201_CREATED)

"""The whistle endpoints of the API (DESIGN.md, "API contract (v1)").

Each endpoint parses its input, finds the whistle through the user's scope,
calls one service and renders the whistle as a selector loads it. Errors are
raised, never formatted here: config.api turns them into the one error shape.
"""

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import fields as filter_fields
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ACTION_ERRORS, PageNumberPagination, error_responses, query_point
from config.errors import InvalidInput, NotFound
from departments.models import Grade
from whistle.models import Task, Whistle
from whistle.permissions import access_whistle, sees_caller
from whistle.selectors import (
    whistle_approvals,
    whistle_get,
    whistle_just_stored,
    whistle_list,
    whistle_possible_duplicates,
    whistle_queue,
)
from whistle.serializers import (
    CallbackInputSerializer,
    DecisionSerializer,
    DispatchSerializer,
    MergeSerializer,
    PossibleDuplicateSerializer,
    RateSerializer,
    ReasonSerializer,
    WhistleDetailSerializer,
    WhistleSubmitSerializer,
    WhistleSubmittedSerializer,
    WhistleSummarySerializer,
)
from whistle.services import (
    whistle_callback,
    whistle_confirm,
    whistle_decide,
    whistle_dispatch,
    whistle_merge,
    whistle_rate,
    whistle_reopen,
    whistle_submit,
    whistle_submit_as_duplicate,
)
from whistle.task_selectors import light_conditions


class _StorableIsoDateTimeField(filter_fields.IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                # As UTC: PostgreSQL refuses offsets beyond ±15:59, which Python allows;
                # and year 9999 at -14:00 has no UTC time at all.
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return value


class StorableIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _StorableIsoDateTimeField


class WhistleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Whistle.Status.choices)
    street = django_filters.CharFilter(field_name="street__code", help_text="Street code, e.g. S01.")
    category = django_filters.CharFilter(field_name="category__code", help_text="Category code.")
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    source = django_filters.ChoiceFilter(choices=Whistle.Source.choices)
    created_after = StorableIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO-8601 time."
    )
    created_before = StorableIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this ISO-8601 time."
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_overdue",
        help_text="true: whistles with an open task past the deadline of its stage (a red light); false: none.",
    )

    class Meta:
        model = Whistle
        fields = ["status", "street", "category", "grade", "source", "created_after", "created_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        red, _yellow = light_conditions(timezone.now())
        late = Exists(Task.objects.filter(red, whistle_id=OuterRef("pk")))
        return queryset.filter(late if value == "true" else ~late)


@extend_schema_view(
    list=extend_schema(
        summary="Whistles in your scope", responses={200: WhistleSummarySerializer, **error_responses(400, 401)}
    ),
    retrieve=extend_schema(
        summary="One whistle", responses={200: WhistleDetailSerializer, **error_responses(401, 404)}
    ),
)
class WhistleViewSet(viewsets.GenericViewSet):
    lookup_field = "number"
    # Whistle numbers are S01-2026-000123; anything else is no whistle (and never reaches a query).
    lookup_value_regex = r"[A-Za-z0-9-]{1,32}"
    filter_backends = [DjangoFilterBackend]
    filterset_class = WhistleFilter
    pagination_class = PageNumberPagination
    serializer_class = WhistleDetailSerializer

    # The input of each action (OPTIONS describes it); the output is always the whistle.
    input_serializers = {
        "create": WhistleSubmitSerializer,
        "approve": DecisionSerializer,
        "dispatch_by_hand": DispatchSerializer,
        "merge": MergeSerializer,
        "reopen": ReasonSerializer,
        "rate": RateSerializer,
        "callback": CallbackInputSerializer,
    }

    def get_queryset(self):
        return whistle_list(user=self.request.user)

    def get_serializer_class(self):
        # OPTIONS runs as the "metadata" action, describing each method with the request cloned to it.
        action = self.action_map.get(self.request.method.lower()) if self.action == "metadata" else self.action
        return self.input_serializers.get(action, WhistleDetailSerializer)

    def list(self, request):
        return self._page(self.get_queryset())

    def retrieve(self, request, number=None):
        return self._detail(number)

    @extend_schema(
        summary="Raise a whistle",
        request=WhistleSubmitSerializer,
        responses={
            201: OpenApiResponse(WhistleSubmittedSerializer, description="Stored (and queued for routing)."),
            200: OpenApiResponse(WhistleSubmittedSerializer, description="A whistle with this external_id exists."),
            **error_responses(400, 401, 403, 413, 415),
        },
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        into = (fields.pop("duplicate_of", "") or "").strip()
        if into:
            try:
                primary = access_whistle(request.user, into)
            except NotFound as error:
                raise InvalidInput(fields={"duplicate_of": [error.message]}) from None
            result = whistle_submit_as_duplicate(reporter=request.user, into=primary, **fields)
        else:
            result = whistle_submit(reporter=request.user, **fields)
        notice = (
            ""
            if result.enqueued
            else _(
                "The whistle is stored. The routing queue cannot be reached just now: "
                "it will be routed as soon as the queue is back."
            )
        )
        # A whistle just stored is the reporter's own, its relations loaded: no second lookup through the scope.
        whistle = (
            whistle_just_stored(result.whistle, events=result.events)
            if result.created and not into
            else whistle_get(user=request.user, number=result.whistle.number)
        )
        body = {
            **WhistleDetailSerializer(whistle, context={"sees_caller": sees_caller(request.user)}).data,
            "created": result.created,
            "enqueued": result.enqueued,
            "notice": notice,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        summary="The dispatcher's queue: the street's whistles no rule could route, oldest first",
        responses={200: WhistleSummarySerializer(many=True), **error_responses(400, 401)},
    )
    @action(detail=False, methods=["get"])
    def queue(self, request):
        return self._page(whistle_queue(user=request.user))

    @extend_schema(
        summary="Drafts and approvals of your street waiting for your role, oldest first",
        responses={200: WhistleSummarySerializer(many=True), **error_responses(400, 401)},
    )
    @action(detail=False, methods=["get"])
    def approvals(self, request):
        return self._page(whistle_approvals(user=request.user))

    @extend_schema(
        summary="Open whistles of a category near a point, raised lately: possible duplicates, nearest first",
        parameters=[
            OpenApiParameter("category", str, required=True, description="Category code."),
            OpenApiParameter("lon", OpenApiTypes.DOUBLE, required=True, description="Longitude (WGS 84)."),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True, description="Latitude (WGS 84)."),
        ],
        responses={200: PossibleDuplicateSerializer(many=True), **error_responses(400, 401)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def duplicates(self, request):
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(fields={"category": [_("Give a category code.")]})
        lon, lat = query_point(request.query_params)
        found = whistle_possible_duplicates(user=request.user, category=category, lon=lon, lat=lat, now=timezone.now())
        return Response(PossibleDuplicateSerializer(found, many=True).data)

    @extend_schema(
        summary="Approve the step due, or reject to the draft (party-building office whistles)",
        request=DecisionSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, number=None):
        data = self._parsed()
        whistle_decide(whistle=access_whistle(request.user, number), actor=request.user, **data)
        return self._detail(number)

    @extend_schema(
        summary="Route by hand a whistle waiting for dispatch",
        request=DispatchSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    # Not named `dispatch`: that is the view's own request dispatcher.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_by_hand(self, request, number=None):
        data = self._parsed()
        whistle_dispatch(whistle=access_whistle(request.user, number), actor=request.user, **data)
        return self._detail(number)

    @extend_schema(
        summary="Mark as a duplicate of another whistle",
        request=MergeSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, number=None):
        into = self._parsed()["into"].strip()
        whistle = access_whistle(request.user, number)
        try:
            target = access_whistle(request.user, into)
        except NotFound as error:
            # The address names an existing whistle; the body names the missing one.
            raise InvalidInput(
                fields={"into": [error.message if into else _("Give the number of a whistle.")]}
            ) from None
        whistle_merge(whistle=whistle, into=target, actor=request.user)
        return self._detail(number)

    @extend_schema(
        summary="Confirm the departments' result (resolved → closed)",
        request=None,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, number=None):
        whistle_confirm(whistle=access_whistle(request.user, number), actor=request.user)
        return self._detail(number)

    @extend_schema(
        summary="Reopen a resolved whistle: every closed task goes back with new deadlines",
        request=ReasonSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, number=None):
        data = self._parsed()
        whistle_reopen(whistle=access_whistle(request.user, number), actor=request.user, **data)
        return self._detail(number)

    @extend_schema(
        summary="Rate a department that reported in (1–5 on response, attitude, result); once per department",
        request=RateSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def rate(self, request, number=None):
        data = self._parsed(missing=None)
        whistle_rate(whistle=access_whistle(request.user, number), actor=request.user, **data)
        return self._detail(number)

    @extend_schema(
        summary="Record the citizen's verdict on a closed whistle (回访)",
        description="Dissatisfied and not solved reopens the whistle the first time; the second time it is "
        "escalated to the district's supervisors instead.",
        request=CallbackInputSerializer,
        responses={200: WhistleDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def callback(self, request, number=None):
        data = self._parsed(missing=None)
        whistle_callback(whistle=access_whistle(request.user, number), actor=request.user, **data)
        return self._detail(number)

    def _page(self, whistles) -> Response:
        page = self.paginate_queryset(self.filter_queryset(whistles))
        return self.get_paginated_response(WhistleSummarySerializer(page, many=True).data)

    def _parsed(self, missing="") -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return {name: serializer.validated_data.get(name, missing) for name in serializer.fields}

    def _render(self, number: str) -> dict:
        whistle = whistle_get(user=self.request.user, number=number)
        return WhistleDetailSerializer(whistle, context={"sees_caller": sees_caller(self.request.user)}).data

    def _detail(self, number: str) -> Response:
        return Response(self._render(number))

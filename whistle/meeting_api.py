"""The joint-meeting endpoints of the API: list and schedule, attend, close, cancel (DESIGN.md, "API contract").

Meetings are addressed by their id; a meeting is visible to whoever may see
its whistle. Each endpoint parses its input, finds the meeting (or the
whistle) through the user's scope, calls one service and renders the meeting.
"""

import django_filters
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ACTION_ERRORS, PageNumberPagination, error_responses
from config.errors import InvalidInput, NotFound
from whistle.models import JointMeeting
from whistle.permissions import access_meeting, access_whistle
from whistle.serializers import MeetingCreateSerializer, MeetingSerializer, ReasonSerializer
from whistle.services import meeting_cancel, meeting_check_in, meeting_close, meeting_schedule
from whistle.street_selectors import meeting_list


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JointMeeting.Status.choices)
    whistle = django_filters.CharFilter(field_name="whistle__number", help_text="Whistle number.")

    class Meta:
        model = JointMeeting
        fields = ["status", "whistle"]


@extend_schema_view(
    list=extend_schema(
        summary="Joint meetings in your scope", responses={200: MeetingSerializer, **error_responses(400, 401)}
    ),
    retrieve=extend_schema(
        summary="One joint meeting", responses={200: MeetingSerializer, **error_responses(401, 404)}
    ),
)
class MeetingViewSet(viewsets.GenericViewSet):
    # Meeting ids are numbers; anything else is no meeting (and never reaches a query).
    lookup_value_regex = r"[0-9]{1,18}"
    filter_backends = [DjangoFilterBackend]
    filterset_class = MeetingFilter
    pagination_class = PageNumberPagination
    serializer_class = MeetingSerializer
    input_serializers = {"create": MeetingCreateSerializer, "cancel": ReasonSerializer}

    def get_queryset(self):
        return meeting_list(user=self.request.user)

    def get_serializer_class(self):
        action = self.action_map.get(self.request.method.lower()) if self.action == "metadata" else self.action
        return self.input_serializers.get(action, MeetingSerializer)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._render(pk)

    @extend_schema(
        summary="Schedule a joint meeting of a routed difficult whistle; every department on it is invited",
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer, **ACTION_ERRORS},
    )
    def create(self, request):
        data = self._parsed()
        number = (data.pop("whistle") or "").strip()
        try:
            whistle = access_whistle(request.user, number)
        except NotFound as error:
            raise InvalidInput(
                fields={"whistle": [error.message if number else _("Give the number of a whistle.")]}
            ) from None
        meeting = meeting_schedule(whistle=whistle, actor=request.user, **data)
        return self._render(meeting.pk, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Check in to the meeting for your department: present, or late after the grace period",
        request=None,
        responses={200: MeetingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def attend(self, request, pk=None):
        meeting_check_in(meeting=access_meeting(request.user, pk), actor=request.user)
        return self._render(pk)

    @extend_schema(
        summary="Record the meeting as held; every department that did not check in is absent",
        request=None,
        responses={200: MeetingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        meeting_close(meeting=access_meeting(request.user, pk), actor=request.user)
        return self._render(pk)

    @extend_schema(
        summary="Call the meeting off, with a reason",
        request=ReasonSerializer,
        responses={200: MeetingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting_cancel(meeting=access_meeting(request.user, pk), actor=request.user, **self._parsed())
        return self._render(pk)

    def _parsed(self) -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return {name: serializer.validated_data.get(name) for name in serializer.fields}

    def _render(self, pk, code=status.HTTP_200_OK) -> Response:
        meeting = access_meeting(self.request.user, pk, queryset=self.get_queryset())
        return Response(MeetingSerializer(meeting).data, status=code)

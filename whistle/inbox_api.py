"""The inbox in the API: the notices addressed to the caller, and marking them read."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ErrorSerializer, PageNumberPagination
from whistle.selectors import notifications_visible
from whistle.services.notify import VERB_LABELS, notifications_mark_read


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    verb = serializers.CharField(help_text="What happened: summoned, returned, reopened, …")
    label = serializers.SerializerMethodField(help_text="The verb in the reader's language.")
    whistle = serializers.CharField(source="whistle.number")
    title = serializers.CharField(source="whistle.title")
    department = serializers.CharField(source="task.department.code", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def get_label(self, notice) -> str:
        return str(VERB_LABELS.get(notice.verb, notice.verb))


class ReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="The notices to mark read; leave out to mark every unread notice read.",
    )


class ReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(
        choices=[(value, value) for value in ("1", "true", "0", "false")],
        method="filter_unread",
        help_text="1 or true: unread notices only; 0 or false: read ones only.",
    )

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value in ("1", "true"))


class NotificationViewSet(viewsets.GenericViewSet):
    pagination_class = PageNumberPagination
    serializer_class = NotificationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilter

    def get_queryset(self):
        return notifications_visible(user=self.request.user)

    @extend_schema(
        summary="Notifications addressed to you, your department or your street",
        responses={
            200: NotificationSerializer(many=True),
            400: OpenApiResponse(ErrorSerializer),
            401: OpenApiResponse(ErrorSerializer),
        },
    )
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(
        summary="Mark notifications read",
        request=ReadSerializer,
        responses={
            200: ReadResultSerializer,
            400: OpenApiResponse(ErrorSerializer),
            401: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=False, methods=["post"], serializer_class=ReadSerializer)
    def read(self, request):
        serializer = ReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=request.user, ids=serializer.validated_data.get("ids"))
        unread = self.get_queryset().filter(read_at=None).count()
        return Response({"marked": marked, "unread": unread})

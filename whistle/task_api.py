"""The task and extension endpoints of the API (DESIGN.md, "API contract (v1)").

Tasks and extension requests are addressed by their id. Each endpoint parses
its input, finds the task through the user's scope (404 when it is not
visible), calls one service and renders the task as the selector loads it.
Errors are raised, never formatted here: config.api gives them their shape.
"""

import django_filters
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api import ACTION_ERRORS, PageNumberPagination, error_responses
from config.errors import NotAllowed
from departments.models import Grade
from whistle.models import Extension, Task
from whistle.permissions import access_task
from whistle.services import (
    extension_decide,
    task_acknowledge,
    task_check_in,
    task_close,
    task_grant,
    task_progress,
    task_release,
    task_request_extension,
    task_return,
)
from whistle.services.tasks import SIGNATURES
from whistle.task_permissions import access_extension
from whistle.task_selectors import (
    LIGHTS,
    attachment_get,
    attachment_response,
    decides_extensions,
    extensions_to_decide,
    task_get,
    task_list,
)
from whistle.task_serializers import (
    CheckInSerializer,
    CloseSerializer,
    ExtensionDecisionSerializer,
    ExtensionRequestSerializer,
    ExtensionSerializer,
    GrantSerializer,
    ProgressSerializer,
    ReleaseSerializer,
    ReturnSerializer,
    TaskDetailSerializer,
    TaskSummarySerializer,
)


class TaskFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code", help_text="Department code, e.g. D13.")
    status = django_filters.ChoiceFilter(choices=Task.Status.choices)
    light = django_filters.ChoiceFilter(
        field_name="light", choices=LIGHTS, help_text="green, yellow (warning) or red (overdue): open tasks only."
    )
    grade = django_filters.ChoiceFilter(field_name="whistle__grade", choices=Grade.choices)
    street = django_filters.CharFilter(field_name="whistle__street__code", help_text="Street code, e.g. S01.")
    category = django_filters.CharFilter(field_name="whistle__category__code", help_text="Category code.")

    class Meta:
        model = Task
        fields = ["department", "status", "light", "grade", "street", "category"]


def _task_action(summary: str, request=None):
    return extend_schema(summary=summary, request=request, responses={200: TaskDetailSerializer, **ACTION_ERRORS})


@extend_schema_view(
    list=extend_schema(
        summary="Tasks in your scope, nearest deadline first",
        responses={200: TaskSummarySerializer, **error_responses(400, 401)},
    ),
    retrieve=extend_schema(summary="One task", responses={200: TaskDetailSerializer, **error_responses(401, 404)}),
)
class TaskViewSet(viewsets.GenericViewSet):
    # Task ids are numbers; anything else is no task (and never reaches a query).
    lookup_value_regex = r"[0-9]{1,18}"
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter
    pagination_class = PageNumberPagination
    serializer_class = TaskDetailSerializer

    # The input of each action (OPTIONS describes it); the output is always the task.
    input_serializers = {
        "check_in": CheckInSerializer,
        "progress": ProgressSerializer,
        "return_task": ReturnSerializer,
        "extension": ExtensionRequestSerializer,
        "close": CloseSerializer,
        "release": ReleaseSerializer,
        "grant": GrantSerializer,
    }

    def get_queryset(self):
        return task_list(user=self.request.user)

    def get_serializer_class(self):
        action = self.action_map.get(self.request.method.lower()) if self.action == "metadata" else self.action
        return self.input_serializers.get(action, TaskDetailSerializer)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TaskSummarySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @_task_action("Acknowledge the task (签收)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        task_acknowledge(task=access_task(request.user, pk), actor=request.user)
        return self._detail(pk)

    @_task_action("Check in on site (报到), with an optional location and a note", CheckInSerializer)
    @action(detail=True, methods=["post"], url_path="check-in", url_name="check-in")
    def check_in(self, request, pk=None):
        data = self._parsed()
        task_check_in(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @_task_action("Record a progress note", ProgressSerializer)
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        data = self._parsed()
        task_progress(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @_task_action("Return the task (退回): the whistle goes back to the street's dispatcher", ReturnSerializer)
    # Not named `return`: a Python keyword.
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_task(self, request, pk=None):
        data = self._parsed()
        task_return(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @_task_action("Ask for a later resolve-by date (延期申请)", ExtensionRequestSerializer)
    @action(detail=True, methods=["post"])
    def extension(self, request, pk=None):
        data = self._parsed()
        task_request_extension(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @extend_schema(
        summary="Close the task (办结) with the feedback form; JSON, or multipart/form-data with files",
        request={"application/json": CloseSerializer, "multipart/form-data": CloseSerializer},
        responses={200: TaskDetailSerializer, **ACTION_ERRORS, **error_responses(413)},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def close(self, request, pk=None):
        data = self._parsed()
        task_close(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @_task_action("Release a co-operating department (the street's dispatcher)", ReleaseSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        data = self._parsed()
        task_release(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    @_task_action("Let a co-operating department's member act on the lead task (the lead's head)", GrantSerializer)
    @action(detail=True, methods=["post"])
    def grant(self, request, pk=None):
        data = self._parsed()
        task_grant(task=access_task(request.user, pk), actor=request.user, **data)
        return self._detail(pk)

    def _parsed(self) -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A field left out is None for the optional numbers and times, "" for text.
        return {
            name: data.get(name, None if getattr(field, "allow_null", False) else "")
            for name, field in serializer.fields.items()
        }

    def _detail(self, pk) -> Response:
        return Response(TaskDetailSerializer(task_get(user=self.request.user, task_id=pk)).data)


class ExtensionViewSet(viewsets.GenericViewSet):
    """Extension requests: decided by the head of the whistle's street or a supervisor of its district."""

    lookup_value_regex = r"[0-9]{1,18}"
    queryset = Extension.objects.none()  # for the schema; the list and decide scope their own
    serializer_class = ExtensionDecisionSerializer
    pagination_class = PageNumberPagination

    @extend_schema(
        summary="The pending extension requests you may decide (street head, supervisor), oldest first",
        responses={200: ExtensionSerializer(many=True), **error_responses(401, 403)},
    )
    def list(self, request):
        if not decides_extensions(request.user):
            raise NotAllowed(_("Only a street head or a supervisor decides extension requests."))
        page = self.paginate_queryset(extensions_to_decide(user=request.user))
        return self.get_paginated_response(ExtensionSerializer(page, many=True).data)

    @extend_schema(
        summary="Approve (the resolve-by date moves) or refuse an extension request",
        request=ExtensionDecisionSerializer,
        responses={200: ExtensionSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {name: serializer.validated_data.get(name, "") for name in serializer.fields}
        extension = extension_decide(extension=access_extension(request.user, pk), actor=request.user, **data)
        return Response(ExtensionSerializer(extension).data)


class AttachmentViewSet(viewsets.GenericViewSet):
    """Feedback attachments: the file itself, to whoever may see its task (404 for anyone else)."""

    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = None

    @extend_schema(
        summary="Download a feedback attachment (photo or PDF)",
        responses={
            **{
                (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as it was uploaded.")
                for media_type, _name, _suffixes in SIGNATURES
            },
            **error_responses(401, 404),
        },
    )
    def retrieve(self, request, pk=None):
        return attachment_response(attachment_get(user=request.user, attachment_id=pk))

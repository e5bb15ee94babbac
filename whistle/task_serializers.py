"""API input and output shapes of tasks and extension requests.

As for whistles (whistle.serializers): input serializers check JSON types
only, every rule is the service's; output serializers render what the task
selectors loaded (stage, light, feedback, attachments) without a query per row.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import OffsetDateTimeField, StrictCharField, StrictFloatField
from whistle.models import Extension, Feedback, Task, Whistle

# Input ------------------------------------------------------------------------------------


class CheckInSerializer(serializers.Serializer):
    lon = StrictFloatField(help_text="Longitude (WGS 84) on site; optional, with lat.")
    lat = StrictFloatField(help_text="Latitude (WGS 84) on site; optional, with lon.")
    note = StrictCharField(help_text="What you found on arrival.")


class ProgressSerializer(serializers.Serializer):
    note = StrictCharField(help_text="What has been done meanwhile; required.")


class ReturnSerializer(serializers.Serializer):
    reason_code = StrictCharField(
        help_text="not_ours, wrong_location, duplicate, needs_other_department or other; required."
    )
    reason = StrictCharField(help_text="Why the task is not yours; required.")
    suggested_department = StrictCharField(help_text="Code of the department you think is responsible; optional.")


class ExtensionRequestSerializer(serializers.Serializer):
    until = OffsetDateTimeField(help_text="Proposed resolve-by time, ISO-8601 with offset; after the current one.")
    reason = StrictCharField(help_text="Why more time is needed; required.")


class CloseSerializer(serializers.Serializer):
    actions = StrictCharField(help_text="What was done; required.")
    result = StrictCharField(help_text="solved, partly_solved or unsolvable.")
    note = StrictCharField(help_text="Required when unsolvable: why.")
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        help_text="multipart/form-data only: photos (JPEG, PNG, WebP) and PDF documents, each under the size limit.",
    )


class ReleaseSerializer(serializers.Serializer):
    note = StrictCharField(help_text="Why this department is not needed.")


class GrantSerializer(serializers.Serializer):
    username = StrictCharField(help_text="A member of a co-operating department of this whistle.")


class ExtensionDecisionSerializer(serializers.Serializer):
    decision = StrictCharField(help_text="approve or refuse.")
    note = StrictCharField(help_text="Required when refusing.")


# Output -----------------------------------------------------------------------------------


class _CodeName(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TaskWhistleSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Whistle.Status.choices)
    grade = serializers.CharField()
    mode = serializers.ChoiceField(choices=Whistle.Mode.choices)
    street = _CodeName()
    category = _CodeName()
    address = serializers.CharField()


class TaskSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    whistle = TaskWhistleSerializer()
    department = _CodeName()
    role = serializers.CharField()
    status = serializers.ChoiceField(choices=Task.Status.choices)
    stage = serializers.CharField(help_text="The stage due: acknowledge, checkin or resolve; empty when finished.")
    stage_due_at = serializers.DateTimeField(allow_null=True, help_text="The deadline of the stage due.")
    light = serializers.CharField(help_text="green, yellow (warning) or red (overdue); empty when finished.")
    acknowledge_due_at = serializers.DateTimeField()
    checkin_due_at = serializers.DateTimeField()
    resolve_due_at = serializers.DateTimeField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="The download address for a signed-in browser.")
    download = serializers.SerializerMethodField(help_text="The download address in the API (token or session).")

    def get_url(self, attachment) -> str:
        return reverse("whistle:attachment", args=[attachment.pk])

    def get_download(self, attachment) -> str:
        return reverse("whistle_api:attachment-detail", args=[attachment.pk])


class FeedbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    actions = serializers.CharField()
    result = serializers.ChoiceField(choices=Feedback.Result.choices)
    note = serializers.CharField()
    author = serializers.CharField(source="author.username")
    time = serializers.DateTimeField(source="created_at")
    attachments = AttachmentSerializer(many=True, source="attachments.all")


class ExtensionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField(source="task_id")
    status = serializers.ChoiceField(choices=Extension.Status.choices)
    until = serializers.DateTimeField()
    previous_due_at = serializers.DateTimeField()
    reason = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField(source="created_at")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class TaskEventSerializer(serializers.Serializer):
    time = serializers.DateTimeField(source="created_at")
    verb = serializers.CharField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_actor(self, event) -> str:
        return event.actor.get_username() if event.actor_id else event.system_actor


class TaskDetailSerializer(TaskSummarySerializer):
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checkin_lon = serializers.FloatField(allow_null=True)
    checkin_lat = serializers.FloatField(allow_null=True)
    checkin_note = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reason_code = serializers.CharField()
    return_reason = serializers.CharField()
    suggested_department = serializers.SerializerMethodField()
    acknowledged_on_time = serializers.BooleanField(allow_null=True)
    checked_in_on_time = serializers.BooleanField(allow_null=True)
    closed_on_time = serializers.BooleanField(allow_null=True)
    feedback = FeedbackSerializer(many=True, source="feedback.all")
    extensions = ExtensionSerializer(many=True, source="extensions.all")
    events = TaskEventSerializer(many=True, source="events.all")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_suggested_department(self, task) -> str | None:
        return task.suggested_department.code if task.suggested_department_id else None
